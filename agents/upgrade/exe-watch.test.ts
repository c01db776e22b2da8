// The executable watch (decision 1132): a process learns at once, through the folder watch and not
// the slow safety-net poll, that another process swapped the executable; nothing else wakes it.
import t from 'tap';
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { watchExecutable } from './exe-watch.ts';
import { imageOf } from './process-marks.ts';

t.test('a swap by rename is noticed through the folder watch; other files in the folder are not a swap', { timeout: 20_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-exe-watch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const exe = path.join(dir, 'drover');
  writeFileSync(exe, 'old');
  const image = imageOf(exe);
  if (!image) throw new Error('no image');
  let replaced = 0;
  let resolve: () => void = () => {};
  const noticed = new Promise<void>((r) => (resolve = r));
  // The poll is an hour: only the watch can notice within the test's timeout.
  const stop = watchExecutable({ exe, dataDir: path.join(dir, 'data'), image, pollMs: 3_600_000, onReplaced: () => { replaced++; resolve(); } });
  t.teardown(stop);
  writeFileSync(path.join(dir, 'kubectl'), 'another tool');
  writeFileSync(path.join(dir, 'drover.new'), 'new');
  await new Promise((r) => setTimeout(r, 200));
  t.equal(replaced, 0, 'files beside it are not a swap');
  // The watch and its poll keep no process alive (an agent has its sockets): this test holds it.
  const alive = setTimeout(() => {}, 20_000);
  renameSync(path.join(dir, 'drover.new'), exe);
  await noticed;
  clearTimeout(alive);
  t.equal(replaced, 1, 'the swap is noticed once');
});

t.test('imageOf answers undefined for a file it cannot stat (a symlink loop: ELOOP, as /proc/self/exe under qemu-user) instead of throwing', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-exe-image-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(path.join(dir, 'b'), path.join(dir, 'a'));
  symlinkSync(path.join(dir, 'a'), path.join(dir, 'b'));
  t.equal(imageOf(path.join(dir, 'a')), undefined);
  t.equal(imageOf(path.join(dir, 'absent')), undefined);
});
