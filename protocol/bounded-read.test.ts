// The bounded reader: everything up to the limit, BodyTooLarge past it, and the source is not read
// further once the limit is passed.
import t from 'tap';
import { Readable } from 'node:stream';
import { BodyTooLarge, readBounded } from './bounded-read.ts';

t.test('readBounded: up to the limit inclusive; one byte more throws and stops reading', async (t) => {
  t.equal((await readBounded(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4)).toString(), 'abcd');
  t.equal((await readBounded(Readable.from([]), 0)).length, 0);
  t.equal((await readBounded(Readable.from(['x', new Uint8Array([121])]), 2)).toString(), 'xy', 'strings and Uint8Arrays too');
  let pulled = 0;
  async function* endless() {
    for (;;) {
      pulled++;
      yield Buffer.alloc(10);
    }
  }
  const err = await readBounded(endless(), 25, 'answer').catch((e: unknown) => e);
  t.ok(err instanceof BodyTooLarge);
  t.equal((err as BodyTooLarge).message, 'answer over 25 bytes');
  t.equal((err as BodyTooLarge).limit, 25);
  t.equal(pulled, 3, 'not read past the chunk that crossed the limit');
});
