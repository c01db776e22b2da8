// The executable cache under ~/.cache/drover/sea keeps the few most recently used entries of each
// kind: every code change makes a new 40–115 MiB entry (a day of work had grown it to 7.8 GiB).
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { pruneCache } from './build.ts';

t.test('pruneCache keeps the newest entries of one kind and touches nothing else', async (t) => {
  const dir = t.testdir();
  const key = (i: number) => i.toString(16).padStart(32, '0');
  for (let i = 0; i < 6; i++) {
    for (const kind of ['amd64-', 'airgap-amd64-']) {
      const d = path.join(dir, `${kind}${key(i)}`);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'drover'), 'x');
      const when = new Date(Date.UTC(2026, 0, 1, 0, i));
      fs.utimesSync(d, when, when);
    }
  }
  fs.mkdirSync(path.join(dir, 'amd64-notahash'));
  const gone = pruneCache(dir, 'amd64-', 4);
  t.same(gone.sort(), [`amd64-${key(0)}`, `amd64-${key(1)}`], 'the two least recently used go');
  const left = fs.readdirSync(dir).sort();
  t.same(left.filter((n) => n.startsWith('amd64-')), [...[2, 3, 4, 5].map((i) => `amd64-${key(i)}`), 'amd64-notahash'].sort(), 'the newest four and a foreign name stay');
  t.equal(left.filter((n) => n.startsWith('airgap-amd64-')).length, 6, 'another kind is untouched');
  t.same(pruneCache(path.join(dir, 'missing'), 'amd64-'), [], 'no cache dir: nothing to do');
});
