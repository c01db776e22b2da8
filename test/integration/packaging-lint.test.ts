// Static checks of what packaging ships (issue 7): install.sh passes shellcheck and POSIX sh
// parsing; every unit passes `systemd-analyze verify` and keeps its security exposure score.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { UNITS } from '../../packaging/targets.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const installSh = path.join(repo, 'packaging', 'install.sh');

/** Highest acceptable `systemd-analyze security` exposure per unit (lower is better; docs/packaging.md). */
const MAX_EXPOSURE: Record<string, number> = {
  'drover-server.service': 2.5,
  'drover-cluster-agent.service': 2.5,
  'drover-fleet-agent.service': 2.5,
  // Runs host plans as root with capabilities (decision 0502).
  'drover-node-agent.service': 8.0,
  // All roles in one process, the node role among them: the node unit's privileges (decision 0902).
  'drover-agent.service': 8.0,
};

function run(cmd: string, args: string[], cwd?: string) {
  return spawnSync(cmd, args, { encoding: 'utf8', cwd });
}

t.test('install.sh: shellcheck (POSIX sh) reports nothing', async (t) => {
  const res = run('shellcheck', ['--shell=sh', '--severity=style', installSh]);
  t.equal(res.status, 0, res.stdout + res.stderr);
});

t.test('install.sh: dash parses it, and it opens with a header listing every INSTALL_DROVER_ variable it reads', async (t) => {
  t.equal(run('sh', ['-n', installSh]).status, 0);
  const text = fs.readFileSync(installSh, 'utf8');
  const header = text.slice(0, text.indexOf('set -eu'));
  const used = new Set([...text.matchAll(/\$\{?(INSTALL_DROVER_[A-Z_]+)/g)].map((m) => m[1]));
  t.ok(used.size >= 5);
  for (const name of used) t.match(header, new RegExp(`#\\s+${name}\\s`), `${name} is documented in the header`);
  for (const name of ['INSTALL_DROVER_SKIP_START', 'INSTALL_DROVER_SKIP_ENABLE', 'INSTALL_DROVER_BIN_DIR', 'INSTALL_DROVER_ARTIFACT_PATH', 'INSTALL_DROVER_SKIP_DOWNLOAD']) {
    t.ok(used.has(name), `issue 7 names ${name}`);
  }
});

/** Copies the units with ExecStart pointed at a file that exists (verify checks the binary). */
function unitsForLint(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-units-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = path.join(dir, 'drover');
  fs.writeFileSync(fake, '#!/bin/sh\n', { mode: 0o755 });
  for (const unit of UNITS) {
    const text = fs.readFileSync(path.join(repo, 'systemd', unit), 'utf8');
    fs.writeFileSync(path.join(dir, unit), text.replaceAll('/usr/local/bin/drover', fake));
  }
  return dir;
}

t.test('systemd units: systemd-analyze verify --recursive-errors=no is clean for every unit', async (t) => {
  const dir = unitsForLint(t);
  const res = run('systemd-analyze', ['verify', '--recursive-errors=no', ...UNITS.map((u) => `./${u}`)], dir);
  t.equal(res.status, 0, res.stderr);
  t.equal(res.stderr.trim(), '', 'no warnings (unknown keys, bad values)');
});

t.test('systemd units: restart forever with a delay, state and cache directories, journald', async (t) => {
  for (const unit of UNITS) {
    const text = fs.readFileSync(path.join(repo, 'systemd', unit), 'utf8');
    for (const line of ['Restart=always', 'RestartSec=5s', 'StartLimitIntervalSec=0', 'StateDirectoryMode=0700', 'StandardOutput=journal', 'MemoryDenyWriteExecute=no']) {
      t.ok(text.split('\n').includes(line), `${unit}: ${line}`);
    }
    t.match(text, /^CacheDirectory=drover\//m, `${unit} extracts its SQLite addon into CacheDirectory=`);
  }
});

t.test('systemd units: security exposure scores stay at or below the recorded level', async (t) => {
  const dir = unitsForLint(t);
  for (const unit of UNITS) {
    const res = run('systemd-analyze', ['security', '--offline=true', `./${unit}`], dir);
    const m = /Overall exposure level for \S+: ([\d.]+)/.exec(res.stdout + res.stderr);
    t.ok(m, `${unit}: score printed`);
    const score = Number(m?.[1]);
    t.comment(`${unit}: exposure ${score}`);
    t.ok(score <= (MAX_EXPOSURE[unit] ?? 0), `${unit}: ${score} <= ${MAX_EXPOSURE[unit]}`);
  }
});
