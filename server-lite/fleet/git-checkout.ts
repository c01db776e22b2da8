// The git side of a gitrepo source, over the real `git` CLI: keep one working copy per gitrepo,
// fetch the branch (or everything, for a pinned revision) and check out the commit detached and
// clean. Hermetic: no system or global git config, no prompts; credentials in URLs never reach logs.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';

export interface GitSourceSpec {
  repo: string;
  /** Branch to follow; without branch and revision the remote's HEAD is followed. */
  branch?: string | undefined;
  /** A pinned commit or tag; wins over branch. */
  revision?: string | undefined;
}

/** `https://user:secret@host/x` → `https://***@host/x`: what may appear in messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

export async function git(binary: string, cwd: string, args: readonly string[], what: string): Promise<string> {
  const r = await execa(binary, args, {
    cwd,
    reject: false,
    stdin: 'ignore',
    timeout: FLEET_LIMITS.gitCommandTimeoutMs,
    maxBuffer: 1024 * 1024,
    env: { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' },
  });
  if (!r.failed) return String(r.stdout).trim();
  const code = (r as { code?: string }).code;
  const detail = code === 'ENOENT' ? `cannot run ${binary}` : r.timedOut ? 'timed out' : String(r.stderr).trim().split('\n').slice(-3).join(' ');
  throw new FleetError('GIT_FAILED', `${what}: ${redactUrl(detail)}`);
}

/** Fetches and checks out the spec's commit in `workDir`; returns the full commit id. */
export async function syncCheckout(spec: GitSourceSpec, workDir: string, binary = 'git'): Promise<string> {
  const repo = redactUrl(spec.repo);
  await mkdir(workDir, { recursive: true });
  if (!existsSync(join(workDir, '.git'))) {
    await git(binary, workDir, ['init', '--quiet'], `git init ${workDir}`);
    await git(binary, workDir, ['remote', 'add', 'origin', spec.repo], 'git remote add');
  } else {
    await git(binary, workDir, ['remote', 'set-url', 'origin', spec.repo], 'git remote set-url');
  }
  let ref: string;
  if (spec.revision !== undefined) {
    // A pinned commit may not be a branch tip, and servers refuse unadvertised ids by default: fetch all.
    // A working copy that followed a branch is shallow; the pinned commit may lie below its boundary.
    const deepen = existsSync(join(workDir, '.git', 'shallow')) ? ['--unshallow'] : [];
    await git(binary, workDir, ['fetch', '--quiet', ...deepen, '--tags', '--force', 'origin', '+refs/heads/*:refs/remotes/origin/*'], `git fetch ${repo}`);
    ref = `${spec.revision}^{commit}`;
  } else if (spec.branch !== undefined) {
    const remote = `refs/remotes/origin/${spec.branch}`;
    await git(binary, workDir, ['fetch', '--quiet', '--no-tags', '--depth=1', 'origin', `+refs/heads/${spec.branch}:${remote}`], `git fetch ${repo} branch ${spec.branch}`);
    ref = `${remote}^{commit}`;
  } else {
    await git(binary, workDir, ['fetch', '--quiet', '--no-tags', '--depth=1', 'origin', 'HEAD'], `git fetch ${repo} HEAD`);
    ref = 'FETCH_HEAD^{commit}';
  }
  const commit = await git(binary, workDir, ['rev-parse', '--verify', '--quiet', ref], `revision ${spec.revision ?? spec.branch ?? 'HEAD'} of ${repo}`).catch(() => {
    throw new FleetError('GIT_FAILED', `${repo}: revision ${spec.revision ?? spec.branch ?? 'HEAD'} does not exist`);
  });
  await git(binary, workDir, ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', '--detach', commit], `git checkout ${commit}`);
  await git(binary, workDir, ['clean', '-ffdxq'], 'git clean');
  return commit;
}
