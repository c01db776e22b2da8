// Join token, credential and id formats (docs/api.md): generation and parsing round-trip.
import t from 'tap';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  bearer,
  formatCredential,
  formatJoinToken,
  hashesEqual,
  hashSecret,
  newAgentId,
  newSecret,
  newTokenId,
  parseCredential,
  parseTokenSecret,
} from './secrets.ts';

t.test('secrets: generated token ids and secrets parse back', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (seed) => {
      let offset = 0;
      const random = (n: number) => {
        const out = Buffer.alloc(n);
        for (let i = 0; i < n; i++) out[i] = seed[(offset + i) % seed.length] ?? 0;
        offset += n;
        return out;
      };
      const id = newTokenId(random);
      const secret = newSecret(random);
      const parsed = parseTokenSecret(`${id}.${secret}`);
      return /^[a-z2-7]{10}$/.test(id) && secret.length >= 32 && parsed?.tokenId === id && parsed.secret === secret;
    }),
  );
});

t.test('secrets: the join token has the contract shape', async (t) => {
  const hash = 'a'.repeat(64);
  t.equal(formatJoinToken(hash, 'abcdefghij', 's'.repeat(40)), `D10${hash}::abcdefghij.${'s'.repeat(40)}`);
});

t.test('secrets: malformed token and credential strings are refused', async (t) => {
  for (const v of ['', '.', 'abc.def', 'ABCDEFGHIJ.' + 'x'.repeat(40), 'abcdefghij.' + 'x'.repeat(31), 'abcdefghij' + 'x'.repeat(40)]) {
    t.equal(parseTokenSecret(v), undefined, JSON.stringify(v));
  }
  for (const v of ['', 'a-.x', 'b-abcdefghij.' + 'x'.repeat(40), 'a-abcdefghij.short']) t.equal(parseCredential(v), undefined, v);
  const id = newAgentId(randomBytes);
  t.same(parseCredential(formatCredential(id, 'y'.repeat(40))), { agentId: id, secret: 'y'.repeat(40) });
});

t.test('secrets: hashes compare in constant time and only when equal', async (t) => {
  t.ok(hashesEqual(hashSecret('x'), hashSecret('x')));
  t.notOk(hashesEqual(hashSecret('x'), hashSecret('y')));
  t.notOk(hashesEqual('', ''));
  t.notOk(hashesEqual(hashSecret('x'), 'abcd'));
});

t.test('secrets: bearer header parsing', async (t) => {
  t.equal(bearer('Bearer abc.def'), 'abc.def');
  t.equal(bearer('bearer   abc'), 'abc');
  t.equal(bearer('Basic abc'), undefined);
  t.equal(bearer(undefined), undefined);
  t.equal(bearer('Bearer a b'), undefined);
});
