// Unit tests of the swap and recovery rules (issue 16, decisions 1002 and 1132), on real files in a
// temporary directory: per-unit start counting, and what a crash mid-swap leaves behind.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processKey, recover, stagedPath, swapIn } from './swap.ts';
import { readRecord, writeRecord, IDLE } from './upgrade-state.ts';

function setup(t: { teardown(fn: () => void): void }): { dir: string; exe: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-swap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const exe = path.join(dir, 'drover');
  fs.writeFileSync(exe, 'old');
  fs.writeFileSync(stagedPath(exe), 'new');
  return { dir, exe };
}

t.test('processKey: the roles, sorted', (t) => {
  t.equal(processKey(['node', 'cluster']), 'cluster,node');
  t.equal(processKey([]), 'all');
  t.end();
});

t.test('per-role units: one first start per unit is on probation; a second start of one unit rolls back', (t) => {
  const { dir, exe } = setup(t);
  swapIn(dir, { ...IDLE, phase: 'Staged', version: '1.0.0', exe }, 1000, 60_000, ['cluster', 'node']);
  t.equal(fs.readFileSync(exe, 'utf8'), 'new');
  t.same(readRecord(dir).roles, ['cluster', 'node']);
  for (const key of ['cluster', 'node']) {
    t.equal(recover(dir, 2000, 'pre-start', key).action, 'health-check', `pre-start of ${key}`);
    t.equal(recover(dir, 2000, 'in-process', key).action, 'health-check', `first start of ${key}`);
  }
  const again = recover(dir, 3000, 'pre-start', 'node');
  t.equal(again.action, 'rolled-back', 'the node unit started a second time without a commit');
  t.equal(fs.readFileSync(exe, 'utf8'), 'old', 'the previous executable is back');
  t.notOk(fs.existsSync(`${exe}.previous`));
  t.end();
});

t.test('past the deadline the pre-start step rolls back (a hang ended by the start timeout)', (t) => {
  const { dir, exe } = setup(t);
  swapIn(dir, { ...IDLE, phase: 'Staged', version: '1.0.0', exe }, 1000, 5_000);
  t.equal(recover(dir, 1500, 'pre-start').action, 'health-check');
  const r = recover(dir, 7000, 'pre-start');
  t.equal(r.action, 'rolled-back');
  t.match(r.action === 'rolled-back' ? r.record.message : '', /did not connect within the health deadline/);
  t.equal(fs.readFileSync(exe, 'utf8'), 'old');
  t.end();
});

t.test('a crash mid-swap (record Swapping) always goes back', (t) => {
  const { dir, exe } = setup(t);
  // As if killed after the previous one was kept and the new one renamed in.
  fs.linkSync(exe, `${exe}.previous`);
  fs.renameSync(stagedPath(exe), exe);
  writeRecord(dir, { ...IDLE, phase: 'Swapping', version: '1.0.0', exe });
  const r = recover(dir, 2000, 'pre-start');
  t.equal(r.action, 'rolled-back');
  t.equal(fs.readFileSync(exe, 'utf8'), 'old');
  t.notOk(fs.existsSync(`${exe}.previous`));
  t.notOk(fs.existsSync(stagedPath(exe)));
  t.end();
});
