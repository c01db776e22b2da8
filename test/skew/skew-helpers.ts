// What the version-skew tests share: the previous release's `drover` (built once by
// build-previous.ts), a "built variant" of the current code that reports another version (how the
// refusal tests fake an agent or server outside the support window), and per-binary wrappers of
// the e2e helpers — each side runs its own build's commands (the previous agent's `agent status`
// reads its data dir with its own schema; the current CLI would migrate it).
import fs from 'node:fs';
import path from 'node:path';
import { DROVER, drover, Proc, ROOT, startAgent, waitFor, type AgentStatusJson, type CmdResult } from '../e2e/agent-helpers.ts';
import { previousDrover, previousRelease } from './build-previous.ts';

export { previousRelease };
export const CURRENT_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** One build of drover: its executable and the version it reports. */
export interface Build {
  bin: string;
  version: string;
  what: string;
}

export const currentBuild = (): Build => ({ bin: DROVER, version: CURRENT_VERSION, what: `current ${CURRENT_VERSION}` });

export function previousBuild(): Build {
  const rel = previousRelease();
  return { bin: previousDrover(rel), version: rel.version, what: `previous ${rel.version}` };
}

/**
 * A "built variant": the current source tree copied into `dir` with package.json's version set to
 * `version` (the one place the version comes from, cli/build-info.ts), running on the checkout's
 * node_modules through a symlink. This is how a test gets an agent or server of a version that
 * does not exist yet (0.3.0, 0.4.0) without a test-only knob in the product. A few MB, copied in
 * well under a second.
 */
export function variantBuild(dir: string, version: string): Build {
  const root = path.join(dir, `drover-${version}`);
  if (!fs.existsSync(path.join(root, 'bin', 'drover'))) {
    fs.mkdirSync(root, { recursive: true });
    for (const entry of fs.readdirSync(ROOT)) {
      if (['node_modules', '.git', '.tap', 'test', 'bench', 'docs', 'dist'].includes(entry)) continue;
      fs.cpSync(path.join(ROOT, entry), path.join(root, entry), { recursive: true });
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(root, 'package.json'), `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  }
  return { bin: path.join(root, 'bin', 'drover'), version, what: `variant ${version}` };
}

export function run(b: Build, args: string[], env: Record<string, string> = {}): Promise<CmdResult> {
  return drover(args, env, b.bin);
}

export async function agentStatusOf(b: Build, dataDir: string): Promise<AgentStatusJson> {
  const r = await run(b, ['agent', 'status', '--json', '--data-dir', dataDir]);
  if (r.exitCode !== 0) throw new Error(`${b.what}: agent status failed (${r.exitCode}): ${r.stderr}`);
  return JSON.parse(r.stdout) as AgentStatusJson;
}

/** `agent run` of build `b` (short backoff cap, as startAgent). */
export function startAgentOf(b: Build, dataDir: string, args: string[] = [], env: Record<string, string> = {}): Proc {
  if (b.bin === DROVER) return startAgent(dataDir, args, env);
  return new Proc(['agent', 'run', '--data-dir', dataDir, '--backoff-cap', '2s', ...args], env, b.bin);
}

export async function createTokenOf(b: Build, serverDir: string, args: string[] = []): Promise<string> {
  const r = await run(b, ['token', 'create', '--data-dir', serverDir, ...args]);
  if (r.exitCode !== 0) throw new Error(`${b.what}: token create failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Waits for every role of the agent in `dataDir` to be in `state`, read by the agent's own build. */
export function waitRoles(b: Build, dataDir: string, state: string, timeoutMs = 60_000): Promise<AgentStatusJson> {
  return waitFor(`${b.what} agent: every role ${state}`, async () => {
    const s = await agentStatusOf(b, dataDir);
    if (s.roles.length > 0 && s.roles.every((r) => r.state === state)) return s;
    throw new Error(JSON.stringify(s.roles));
  }, timeoutMs);
}
