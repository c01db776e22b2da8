// The git side of a gitrepo source, over the real `git` CLI: keep one working copy per gitrepo,
// fetch the branch (or everything, for a pinned revision) and check out the commit detached and
// clean. Hermetic: no system or global git config, no prompts; credentials in URLs never reach logs.
// Credentials of a stored secret come in as environment (source-secrets.ts); failures get the code
// of their cause (git-errors.ts). Fetches are shallow: a branch tip, a tag or a commit at depth 1,
// with a full fetch only when the server will not hand out a commit by its id.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { FleetError } from './errors.ts';
import { classifyGitError } from './git-errors.ts';
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

export async function git(binary: string, cwd: string, args: readonly string[], what: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const r = await execa(binary, args, {
    cwd,
    reject: false,
    stdin: 'ignore',
    timeout: FLEET_LIMITS.gitCommandTimeoutMs,
    maxBuffer: 1024 * 1024,
    env: { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C', GIT_ASKPASS: '', SSH_ASKPASS: '', ...extraEnv },
  });
  if (!r.failed) return String(r.stdout).trim();
  const code = (r as { code?: string }).code;
  const stderr = String(r.stderr).trim();
  const detail = code === 'ENOENT' ? `cannot run ${binary}` : r.timedOut ? 'timed out' : stderr.split('\n').filter((l) => !/^@+$|^@ /.test(l)).slice(-3).join(' ');
  const cause = code === 'ENOENT' || r.timedOut ? { code: 'GIT_FAILED' as const, advice: undefined } : classifyGitError(stderr);
  throw new FleetError(cause.code, `${what}: ${redactUrl(detail)}${cause.advice ? ` (${cause.advice})` : ''}`);
}

/** Fetches and checks out the spec's commit in `workDir`; returns the full commit id. */
export async function syncCheckout(spec: GitSourceSpec, workDir: string, binary = 'git', env: Record<string, string> = {}): Promise<string> {
  const repo = redactUrl(spec.repo);
  await mkdir(workDir, { recursive: true });
  if (!existsSync(join(workDir, '.git'))) {
    await git(binary, workDir, ['init', '--quiet'], `git init ${workDir}`);
    await git(binary, workDir, ['remote', 'add', 'origin', spec.repo], 'git remote add');
  } else {
    await git(binary, workDir, ['remote', 'set-url', 'origin', spec.repo], 'git remote set-url');
  }
  const fetch = (args: readonly string[], what: string): Promise<string> => git(binary, workDir, ['fetch', '--quiet', ...args], what, env);
  let ref: string;
  if (spec.revision !== undefined) {
    const rev = spec.revision;
    // Shallow first: a tag, or a full commit id (protocol v2 servers hand out any reachable commit).
    const shallow = /^[0-9a-f]{40}$/i.test(rev) ? [rev] : [`+refs/tags/${rev}:refs/tags/${rev}`];
    const ok = await fetch(['--no-tags', '--depth=1', 'origin', ...shallow], `git fetch ${repo} ${rev}`).then(
      () => true,
      (e: unknown) => {
        // Only a missing ref is worth a second try; bad credentials or an unknown host are not.
        if (e instanceof FleetError && (e.code === 'GIT_REF_NOT_FOUND' || e.code === 'GIT_FAILED')) return false;
        throw e;
      },
    );
    if (!ok) {
      // A short commit id, or a server that refuses unadvertised ids: fetch everything. A working
      // copy that followed a branch is shallow; the pinned commit may lie below its boundary.
      const deepen = existsSync(join(workDir, '.git', 'shallow')) ? ['--unshallow'] : [];
      await fetch([...deepen, '--tags', '--force', 'origin', '+refs/heads/*:refs/remotes/origin/*'], `git fetch ${repo}`);
    }
    ref = /^[0-9a-f]{40}$/i.test(rev) ? `${rev}^{commit}` : ok ? `refs/tags/${rev}^{commit}` : `${rev}^{commit}`;
  } else if (spec.branch !== undefined) {
    const remote = `refs/remotes/origin/${spec.branch}`;
    await fetch(['--no-tags', '--depth=1', 'origin', `+refs/heads/${spec.branch}:${remote}`], `git fetch ${repo} branch ${spec.branch}`);
    ref = `${remote}^{commit}`;
  } else {
    await fetch(['--no-tags', '--depth=1', 'origin', 'HEAD'], `git fetch ${repo} HEAD`);
    ref = 'FETCH_HEAD^{commit}';
  }
  const commit = await git(binary, workDir, ['rev-parse', '--verify', '--quiet', ref], `revision ${spec.revision ?? spec.branch ?? 'HEAD'} of ${repo}`).catch(() => {
    throw new FleetError('GIT_REF_NOT_FOUND', `${repo}: revision ${spec.revision ?? spec.branch ?? 'HEAD'} does not exist`);
  });
  await git(binary, workDir, ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', '--detach', commit], `git checkout ${commit}`);
  await git(binary, workDir, ['clean', '-ffdxq'], 'git clean');
  return commit;
}
