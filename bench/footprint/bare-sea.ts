// The baseline for bench/footprint.ts: a bare Node single executable built from the same stripped
// Node binary as drover, whose only work is to idle or to hold one TLS connection to the server
// (what every agent role does at least). Cached by content under ~/.cache/drover/footprint/.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { officialNode, strippedNode } from '../../packaging/node-runtime.ts';
import { SEA_FUSE, SEA_RESOURCE, TARGETS, type Target } from '../../packaging/targets.ts';
import { runTool } from '../../packaging/tool.ts';

/** Prints the same "tunnel connected" log line as the agent, so one reader times both. */
const BARE_MAIN = `'use strict';
const tls = require('node:tls');
const fs = require('node:fs');
const said = () => process.stderr.write('{"msg":"tunnel connected","role":"bare"}\\n');
const url = process.env.BARE_URL;
if (url) {
  const u = new URL(url);
  const s = tls.connect({ host: u.hostname, port: Number(u.port), ca: fs.readFileSync(process.env.BARE_CA) }, said);
  s.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
} else said();
setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => process.exit(0));
`;

export function bareSea(repoRoot: string, cacheDir: string, arch: Target['arch'] = 'amd64'): string {
  const target = TARGETS.find((t) => t.arch === arch)!;
  const node = strippedNode(officialNode(repoRoot, target, cacheDir), target, cacheDir);
  const key = createHash('sha256').update(BARE_MAIN).update(node).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, 'footprint', `bare-${arch}-${key}`);
  const exe = path.join(dir, 'bare-sea');
  if (fs.existsSync(exe)) return exe;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.cjs'), BARE_MAIN);
  const config = { main: 'main.cjs', output: 'bare.blob', disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false };
  fs.writeFileSync(path.join(dir, 'sea-config.json'), JSON.stringify(config));
  runTool(process.execPath, ['--experimental-sea-config', 'sea-config.json'], { cwd: dir });
  fs.copyFileSync(node, `${exe}.tmp`);
  fs.chmodSync(`${exe}.tmp`, 0o755);
  runTool(process.execPath, [path.join(repoRoot, 'node_modules', 'postject', 'dist', 'cli.js'), `${exe}.tmp`, SEA_RESOURCE, path.join(dir, 'bare.blob'), '--sentinel-fuse', SEA_FUSE]);
  fs.renameSync(`${exe}.tmp`, exe);
  return exe;
}
