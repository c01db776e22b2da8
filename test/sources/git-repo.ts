// A working copy that commits and pushes to a bare repository over the file system (the servers
// under test serve that bare repository). Hermetic git: no user or system configuration.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface WorkingCopy {
  dir: string;
  git(...args: string[]): string;
  /** Writes the files, commits and pushes main (force, so history rewrites reach the server). */
  commit(files: Record<string, string>, message: string): string;
  remove(): void;
}

export function workingCopy(bare: string): WorkingCopy {
  const dir = mkdtempSync(join(tmpdir(), 'drover-src-wc-'));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
      cwd: dir, env: { PATH: process.env.PATH ?? '', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }, maxBuffer: 64 * 1024 * 1024,
    }).toString().trim();
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', bare);
  return {
    dir,
    git,
    commit(files, message) {
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), text);
      }
      git('add', '-A');
      git('commit', '-q', '-m', message);
      git('push', '-q', '--force', '--tags', 'origin', 'HEAD:refs/heads/main');
      return git('rev-parse', 'HEAD');
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const configMap = (name: string, data: Record<string, string> = {}): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name} }\ndata: ${JSON.stringify(data)}\n`;
