import t from 'tap';
import fc from 'fast-check';
import { chain, verifyChain, GENESIS_HASH } from './audit-chain.ts';
import type { AuditFields } from '../store/store.ts';

const row = (i: number): AuditFields => ({
  at: 1_700_000_000_000 + i,
  user: `u${i % 3}`,
  idp: 'local',
  clusterId: i % 2 ? 'c-aaaaaaaaaa' : null,
  verb: 'get',
  path: `/api/v1/pods/${i}`,
  status: 200,
  latencyMs: i / 10,
});

t.test('audit chain: an untouched chain verifies, continued chains too', async (t) => {
  const first = chain(undefined, [row(1), row(2)]);
  t.equal(first[0]?.prevHash, GENESIS_HASH);
  const next = chain(first.at(-1), [row(3)]);
  t.equal(verifyChain([...first, ...next]), undefined);
  t.equal(next[0]?.seq, 3);
});

t.test('audit chain: any edited field, deleted row or reordering is found at the first bad row', async (t) => {
  const fields = ['at', 'user', 'idp', 'clusterId', 'verb', 'path', 'status', 'latencyMs'] as const;
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 30 }), fc.nat(), fc.constantFrom(...fields), fc.boolean(), (n, pick, field, del) => {
      const rows = chain(undefined, Array.from({ length: n }, (_, i) => row(i)));
      const at = pick % n;
      if (del) {
        const cut = rows.filter((_, i) => i !== at);
        const problem = verifyChain(cut);
        // Deleting the last row leaves a valid prefix: the JSON log and the head check cover that.
        if (at === n - 1) return problem === undefined;
        return problem?.seq === (rows[at + 1]?.seq ?? -1) && problem.reason === 'missing-before';
      }
      const target = rows[at];
      if (!target) return false;
      const edited = { ...target, [field]: field === 'clusterId' ? 'c-other' : typeof target[field] === 'number' ? Number(target[field]) + 1 : `${String(target[field])}x` };
      rows[at] = edited;
      const problem = verifyChain(rows);
      return problem?.seq === target.seq && problem.reason === 'edited';
    }),
  );
});

t.test('audit chain: the identity provider is part of the hash, and rows without one hash as before', async (t) => {
  const plain = row(1);
  const [before] = chain(undefined, [plain]);
  const [withUndefined] = chain(undefined, [{ ...plain, provider: null }]);
  t.equal(withUndefined?.hash, before?.hash, 'no provider: same hash as a row written before the field existed');
  const [ldap] = chain(undefined, [{ ...plain, idp: 'ldap', provider: 'corp' }]);
  t.equal(verifyChain(ldap ? [ldap] : []), undefined);
  t.same(verifyChain(ldap ? [{ ...ldap, provider: 'other' }] : []), { seq: 1, reason: 'edited' }, 'a changed provider breaks the row');
  const [asImpersonated] = chain(undefined, [{ ...plain, idp: 'ldap', impersonated: 'corp' }]);
  t.not(asImpersonated?.hash, ldap?.hash, 'a provider cannot pass for an impersonated user');
});
