// Wires self-upgrade into `drover agent run` (issue 16): which executable this process may replace,
// the health gate at start, and the `http:drover-upgrade` stream target. Also the air-gapped path,
// `drover agent upgrade --from FILE` (an air-gap tarball, or a folder with sha256sums,
// sha256sums.sig, VERSION and the executable): the same verification, staging and swap.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSea } from 'node:sea';
import type { Logger } from 'pino';
import { AgentStore } from '../common/store.ts';
import { UpgradeError } from '../../protocol/release-errors.ts';
import { releasePublicKeyPem } from './release-key.ts';
import { startHealthGate, type Gate } from './health-gate.ts';
import { processKey, stagedPath, swapIn, HEALTH_DEADLINE_MS } from './swap.ts';
import { imageOf, markProcess, readMarks, rolesRunning } from './process-marks.ts';
import { watchExecutable } from './exe-watch.ts';
import { systemdNotify } from './systemd-notify.ts';
import type { UpgradeTarget } from './upgrade-target.ts';
import type { TunnelStream } from '../../protocol/index.ts';
import { readRecord, writeRecord } from './upgrade-state.ts';

/** The executable to replace: DROVER_UPGRADE_EXE (tests, unusual layouts), else this SEA itself. */
export function selfExecutable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const e = env['DROVER_UPGRADE_EXE'];
  if (e) return path.resolve(e);
  return isSea() ? process.execPath : undefined;
}

export function healthMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['DROVER_UPGRADE_HEALTH_MS']);
  return Number.isInteger(v) && v > 0 ? v : HEALTH_DEADLINE_MS;
}

const archName = (a: string): string => (a === 'x64' ? 'amd64' : a);

/**
 * Recovery and the health gate for `agent run`. Healthy = every role that ran on the device at the
 * swap (per-role units share the executable, decision 1132) is connected from a process started
 * from the executable now installed. Also marks this process, and ends it when another process of
 * the device replaced the executable it runs (an upgrade or a rollback), so its unit restarts it.
 */
export function gateAgentRun(dataDir: string, roles: readonly string[], log: Logger): Gate {
  let store: AgentStore | undefined;
  const exe = selfExecutable();
  // The image this process really runs: /proc/self/exe for the executable (right even when the
  // path was swapped while it started); the path for DROVER_UPGRADE_EXE (a wrapper in tests), and
  // where /proc/self/exe cannot be read (arm64 under qemu-user answers ELOOP: the agent ran, but
  // exited 1 at start before this fallback).
  const image = exe ? ((isSea() ? imageOf('/proc/self/exe') : undefined) ?? imageOf(exe)) : undefined;
  const end = (code: number): void => {
    process.exitCode = code;
    process.kill(process.pid, 'SIGTERM');
  };
  const gate = startHealthGate({
    dataDir,
    now: Date.now,
    log,
    key: processKey(roles),
    notify: systemdNotify(log),
    healthy: () => {
      try {
        const installed = exe ? imageOf(exe) : undefined;
        const rec = readRecord(dataDir);
        const expected = rec.roles?.length ? rec.roles : roles;
        const onNew = new Set(readMarks(dataDir).filter((m) => installed === undefined || m.image === installed).map((m) => m.pid));
        onNew.add(process.pid);
        store ??= AgentStore.open(dataDir, { create: false });
        const states = store.roleStates().filter((s) => s.state === 'connected' && s.pid !== null && onNew.has(s.pid));
        return expected.every((r) => states.some((s) => s.role === r));
      } catch {
        return false;
      }
    },
    exit: end,
  });
  if (gate.mustExit || !exe || !image) return gate;
  const unmark = markProcess(dataDir, { pid: process.pid, roles: [...roles], image });
  const unwatch = watchExecutable({
    exe, dataDir, image,
    onReplaced: () => {
      log.warn({ exe }, 'upgrade: the executable was replaced by another process of this device; restarting onto it');
      end(0);
    },
  });
  return { mustExit: false, stop: () => {
    gate.stop();
    unwatch();
    unmark();
  } };
}

/**
 * The agent's upgrade stream target. The download, verification and swap (upgrade-target.ts,
 * release-verify.ts) are loaded when the server first opens it: an idle agent never evaluates them
 * (issue 25, decision 1222).
 */
export function upgradeTarget(dataDir: string, version: string, log: Logger): { serve(stream: TunnelStream): void } {
  let target: Promise<UpgradeTarget> | undefined;
  return {
    serve(stream) {
      stream.on('error', () => {});
      target ??= import('./upgrade-target.ts').then(({ UpgradeTarget }) => new UpgradeTarget({
        dataDir, version, arch: archName(process.arch), exe: selfExecutable(), publicKey: () => releasePublicKeyPem(), now: Date.now, log, healthMs: healthMs(),
        rolesOnDevice: (exe) => rolesRunning(dataDir, imageOf(exe)),
        restart: () => process.kill(process.pid, 'SIGTERM'),
      }));
      target.then((t) => t.serve(stream), (err: unknown) => stream.reset('INTERNAL_ERROR', `the upgrade target could not start: ${(err as Error).message}`.slice(0, 200)));
    },
  };
}

/** Finds sha256sums & co. in a folder, or unpacks a tarball into a temporary folder first. */
export async function releaseFolder(from: string): Promise<{ dir: string; cleanup: () => void }> {
  const st = fs.statSync(from, { throwIfNoEntry: false });
  if (!st) throw new UpgradeError('SUMS_INVALID', `${from} does not exist`);
  if (st.isDirectory()) return { dir: from, cleanup: () => {} };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-upgrade-'));
  // The system's tar, not the npm package (which the agent's bundle must not carry, issue 25): GNU
  // tar strips leading `/` and refuses members with `..` unless told otherwise (no path traversal).
  const r = spawnSync('tar', ['-xzf', from, '-C', tmp, '--no-same-owner', '--no-same-permissions'], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new UpgradeError('SUMS_INVALID', `${from} is not a readable .tar.gz (${(r.stderr || r.error?.message || '').trim().slice(0, 200)})`);
  }
  const inner = fs.readdirSync(tmp).filter((n) => fs.statSync(path.join(tmp, n)).isDirectory());
  return { dir: inner.length === 1 && !fs.existsSync(path.join(tmp, 'sha256sums')) ? path.join(tmp, inner[0] ?? '') : tmp, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

/**
 * `drover agent upgrade --from FILE`: verify (signature, then checksum), stage, swap. The caller
 * restarts the unit (systemctl restart drover-agent); the health gate then decides as for a
 * server-driven upgrade. Throws UpgradeError with nothing changed when anything does not verify.
 */
export async function upgradeFrom(from: string, dataDir: string, opts: { exe?: string | undefined; publicKey?: string | undefined; arch?: string } = {}): Promise<{ version: string; exe: string }> {
  const exe = opts.exe ?? selfExecutable();
  if (!exe) throw new UpgradeError('NOT_UPGRADABLE', 'this drover runs from a checkout; set DROVER_UPGRADE_EXE to the executable to replace');
  const key = opts.publicKey ?? releasePublicKeyPem();
  if (!key) throw new UpgradeError('SIGNATURE_INVALID', 'this drover has no release public key built in');
  const rec = readRecord(dataDir);
  if (rec.phase === 'Swapping' || rec.phase === 'Restarting' || rec.phase === 'Staged' || rec.phase === 'Downloading') {
    throw new UpgradeError('UPGRADE_BUSY', `an upgrade to ${rec.version ?? '?'} is ${rec.phase}; wait for it or restart the agent`);
  }
  const { checkSha, verifiedVersion, verifyRelease } = await import('../../protocol/release-verify.ts');
  const { fileSha256 } = await import('./upgrade-target.ts');
  const { dir, cleanup } = await releaseFolder(from);
  try {
    const read = (name: string): Buffer | undefined => {
      try {
        return fs.readFileSync(path.join(dir, name));
      } catch {
        return undefined;
      }
    };
    const sums = read('sha256sums');
    if (!sums) throw new UpgradeError('SUMS_INVALID', `${from} holds no sha256sums`);
    const sig = read('sha256sums.sig');
    if (!sig) throw new UpgradeError('SIGNATURE_MISSING', `${from} holds no sha256sums.sig: unsigned releases are refused`);
    const arch = opts.arch ?? archName(process.arch);
    const v = verifyRelease({ sumsText: sums.toString('utf8'), signature: sig.toString('utf8'), publicKeyPem: key, arch });
    const version = verifiedVersion(v.sums, read('VERSION'));
    const artifact = path.join(dir, v.artifact);
    if (!fs.existsSync(artifact)) throw new UpgradeError('ARTIFACT_MISSING', `${from} holds no ${v.artifact}`);
    checkSha(v.artifact, await fileSha256(artifact), v.sha256);
    const staged = stagedPath(exe);
    fs.copyFileSync(artifact, staged);
    // Checked again after the copy: what is swapped in is exactly what was verified.
    try {
      checkSha(v.artifact, await fileSha256(staged), v.sha256);
    } catch (err) {
      fs.rmSync(staged, { force: true });
      throw err;
    }
    fs.chmodSync(staged, 0o755);
    const staging = writeRecord(dataDir, { ...rec, phase: 'Staged', version, sha256: v.sha256, size: fs.statSync(staged).size, encoding: null, encodedSize: 0, exe, starts: 0, prestarts: 0, deadline: null, message: `${version} from ${from} verified and staged`, updatedAt: Date.now() });
    swapIn(dataDir, staging, Date.now(), healthMs(), rolesRunning(dataDir, imageOf(exe)));
    return { version, exe };
  } finally {
    cleanup();
  }
}
