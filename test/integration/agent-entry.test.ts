// Issue 25: a device's `drover agent …` never evaluates server-side code. Two proofs:
// 1. the packaged executable's main script (esbuild's metafile of the bundle) holds no server
//    module and none of the server-only packages; they live in assets loaded only by other commands;
// 2. a real `drover agent run` of all three roles, connected to a real server, under a module-load
//    hook, loads no server-lite/ module, no full CLI and none of the heavy packages it does not use.
// Both lists are prefixes, so modules added later under server-lite/ (dashboard, PostgreSQL
// driver, OIDC/LDAP) are caught without touching this test.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { bundleApp } from '../../packaging/bundle.ts';
import { APP_ASSETS } from '../../packaging/targets.ts';
import { createToken, removeDir, serverForTest, tempDir } from './server-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NODE = process.execPath;

/** Server-side code: folders of the repository and packages only the server and admin CLI use. */
const SERVER_SIDE = [
  'server-lite/',
  'cli/main.ts',
  'cli/program.ts',
  'cli/commands/server',
  'node_modules/@kubernetes/client-node/',
  'node_modules/undici/',
  'node_modules/tar/',
  'node_modules/execa/',
  'node_modules/prom-client/',
  'node_modules/pg/',
  'node_modules/openid-client/',
  'node_modules/ldapts/',
];
/** Evaluated only for a person at a terminal (agents/common/pino-pretty-loader.ts). */
const AT_A_TERMINAL_ONLY = ['node_modules/pino-pretty/'];
/** Evaluated only for a kubeconfig or a local node plan (agents/common/yaml-loader.ts, decision 1221). */
const ON_FIRST_YAML = ['node_modules/yaml/'];
/** Loaded on first use inside the roles (decision 1222): the plan executor when a plan is to run… */
const ON_FIRST_PLAN = ['agents/node/plan-executor.ts', 'agents/node/file-writer.ts', 'agents/node/run-command.ts', 'agents/node/probes.ts'];
/** …the shell session with the first shell, the upgrade download and verification with the first upgrade stream. */
const ON_FIRST_STREAM = ['agents/node/shell-session.ts', 'agents/upgrade/upgrade-target.ts', 'protocol/release-verify.ts'];

/** Repository-relative, with packages as `node_modules/…` (node_modules may be a symlink elsewhere). */
function repoPath(file: string): string {
  const i = file.indexOf('/node_modules/');
  return i >= 0 ? file.slice(i + 1) : path.relative(ROOT, file);
}

function offenders(files: readonly string[], prefixes: readonly string[]): string[] {
  return files.filter((f) => prefixes.some((p) => f.startsWith(p) || f.includes(`/${p}`)));
}

t.test('agent entry: the executable main bundle holds no server module; the full CLI asset does', async (t) => {
  const out = tempDir('drover-agent-entry-');
  t.teardown(() => removeDir(out));
  const app = await bundleApp(ROOT, out);
  // Decision 1220: the SEA main is a stub that runs the agent's script from its compressed asset.
  t.same(app.seaMain.inputs, ['packaging/errors.ts', 'packaging/runtime/asset-module.ts', 'packaging/runtime/sea-main.ts', 'packaging/targets.ts'], 'the SEA main holds the stub alone');
  t.equal(app.assets[APP_ASSETS.agent], app.main, 'the agent script travels as an asset');
  t.same(offenders(app.main.inputs, SERVER_SIDE), [], 'no server-side input in the agent script');
  t.ok(app.main.inputs.some((f) => f.startsWith('agents/fleet/')), 'the main bundle does hold the agent roles');
  t.ok(app.main.inputs.includes(`drover-asset:${APP_ASSETS.cli}`), 'other commands reach the full CLI through its asset');
  t.ok(app.main.inputs.includes(`drover-asset:${APP_ASSETS.clientNode}`), 'client-node is reached through its asset');
  // Loaded on first use from assets of their own (decision 1221): not even parsed at idle.
  t.same(offenders(app.main.inputs, [...AT_A_TERMINAL_ONLY, ...ON_FIRST_YAML]), [], 'neither pino-pretty nor yaml is in the agent script');
  t.ok(app.main.inputs.includes(`drover-asset:${APP_ASSETS.yaml}`) && app.main.inputs.includes(`drover-asset:${APP_ASSETS.pinoPretty}`), 'they are reached through their assets');
  t.ok(offenders(app.assets[APP_ASSETS.yaml]!.inputs, ON_FIRST_YAML).length > 0 && offenders(app.assets[APP_ASSETS.pinoPretty]!.inputs, AT_A_TERMINAL_ONLY).length > 0, 'which carry them');
  // Node built-ins pino and sonic-boom required at load, now required on first call (decision 1223).
  const script = fs.readFileSync(app.main.file, 'utf8');
  t.notOk(/\{\s*isMainThread\s*\}\s*=\s*require\("worker_threads"\)|assert\s*=\s*require\("assert"\)|require\("(node:)?fs\/promises"\)/.test(script), 'no eager worker_threads, assert or fs/promises in the agent script');
  t.ok(/isMainThread=[^;]{0,40}\(\)=>require\("worker_threads"\)/.test(script), 'pino asks for worker_threads on first call');
  const cli = app.assets[APP_ASSETS.cli]!;
  t.ok(cli.inputs.some((f) => f.startsWith('server-lite/')), 'the full CLI asset holds the server (so the check above can fail)');
  t.same(offenders(cli.inputs, ['node_modules/@kubernetes/client-node/']), [], 'client-node is not duplicated into the CLI asset');
  // zod's message locales: English only (packaging/bundle.ts, decision 1140).
  const locales = (inputs: readonly string[]) => inputs.filter((f) => f.includes('node_modules/zod/') && f.includes('/locales/')).map((f) => path.basename(f)).sort();
  t.same(locales(app.main.inputs), ['en.js', 'index.js'], 'the main bundle carries zod\'s English messages only');
  t.same(locales(cli.inputs), ['en.js', 'index.js'], 'so does the full CLI asset');
  // zod as a namespace import (decision 1224): `import { z }` made the bundle keep all of zod, since
  // the namespace object `z` refers to every export; `import * as z` lets esbuild drop the unused.
  const named = app.main.inputs.filter((f) => /\.ts$/.test(f) && !f.includes('node_modules/') && /import \{[^}]*\bz\b[^}]*\} from 'zod'/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')));
  t.same(named, [], 'no agent-path file imports { z } from zod');
  const agentScript = fs.readFileSync(app.main.file, 'utf8');
  t.ok(agentScript.includes('zod/v4/classic/schemas.js') && !agentScript.includes('zod/v4/classic/from-json-schema.js'), 'the unused parts of zod are left out of the agent script');
});

t.test('agent entry: `drover agent run` of all roles, connected, loads no server-side module', async (t) => {
  const server = await serverForTest(t);
  const dir = tempDir('drover-agent-entry-run-');
  t.teardown(() => removeDir(dir));
  const dataDir = path.join(dir, 'agent');
  const log = path.join(dir, 'modules.log');
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, DROVER_LOG_LEVEL: 'info', DROVER_MODULE_LOG: log, DROVER_NODE_PLAN_SCAN_MS: '200' };
  const entry = path.join(ROOT, 'cli', 'agent-main.ts');
  const hook = path.join(ROOT, 'test', 'fixtures', 'module-load-log.mjs');
  const { full } = await createToken(server);
  // Asynchronously: the server runs in this process and must answer the registration.
  await promisify(execFile)(NODE, [entry, 'agent', 'register', '--server', server.url, '--token', full, '--data-dir', dataDir], { env });

  const agent = spawn(NODE, ['--import', hook, entry, 'agent', 'run', '--roles', 'cluster,node,fleet', '--data-dir', dataDir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const seen = (re: RegExp, n = 1) => (stderr.match(new RegExp(re.source, 'g')) ?? []).length >= n;
  const waitFor = (what: string, re: RegExp, n = 1) =>
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!seen(re, n)) return;
        agent.stderr!.off('data', check);
        resolve();
      };
      agent.stderr!.on('data', check);
      agent.once('exit', (code) => reject(new Error(`agent exited ${code} before ${what}: ${stderr}`)));
      check();
    });
  agent.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor('connecting', /"tunnel connected"/, 3);
  // Idle and connected: a few plan-directory scans (every 200 ms) go by with nothing to run.
  await waitFor('the node role to start', /"node agent running plans from local state"/);
  const modules = () =>
    fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file://'))
      .map((u) => repoPath(new URL(u).pathname));
  const idle = modules();

  // A local plan that writes a file and runs a command: yaml and the executor load for it.
  const out = path.join(dir, 'lazy.txt');
  fs.mkdirSync(path.join(dataDir, 'plans'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'plans', 'lazy.yaml'), `kind: Plan\nfiles: [{path: ${out}, content: lazy}]\ninstructions: [{name: t, command: /bin/true, timeout: 5s, idempotent: true}]\n`);
  await waitFor('the local plan to finish', /"plan finished"/);
  const exited = once(agent, 'exit');
  agent.kill('SIGTERM');
  await exited;

  const loaded = modules();
  t.ok(loaded.some((f) => f.startsWith('agents/fleet/')) && loaded.some((f) => f.startsWith('agents/cluster/')), 'the hook saw the roles load (so it can see the rest)');
  t.ok(loaded.some((f) => f.startsWith('node_modules/ws/')), 'the hook sees require()d packages too');
  t.same(offenders(loaded, SERVER_SIDE), [], 'no server-side module evaluated');
  t.same(offenders(loaded, AT_A_TERMINAL_ONLY), [], 'no pino-pretty without a terminal');
  t.same(offenders(idle, [...ON_FIRST_YAML, ...ON_FIRST_PLAN, ...ON_FIRST_STREAM]), [], 'idle: no yaml, no plan executor, no shell session, no upgrade download');
  t.equal(fs.readFileSync(out, 'utf8'), 'lazy', 'the local plan ran');
  t.same(ON_FIRST_PLAN.filter((f) => !loaded.includes(f)), [], 'the plan executor was loaded for it');
  t.ok(offenders(loaded, ON_FIRST_YAML).length > 0, 'and yaml, to read the plan file');
  t.same(offenders(loaded, ON_FIRST_STREAM), [], 'still no shell session or upgrade download');
});
