import t from 'tap';
import { buildAccessSet } from './access-set.ts';
import type { UserTokenRecord } from '../store/store.ts';

const endpoint = { listen: '0.0.0.0:9444', fqdn: null, certPem: 'c', keyPem: 'k', caPem: 'ca' };
const tok = (id: string, userName: string, extra: Partial<UserTokenRecord> = {}): UserTokenRecord => ({
  id, userName, secretHash: 'a'.repeat(64), description: '', createdAt: 0, expiresAt: null, revokedAt: null, ...extra,
});
const inputs = {
  users: [
    { name: 'alice', globalRole: 'user' as const, passwordHash: null, createdAt: 0 },
    { name: 'bob', globalRole: 'user' as const, passwordHash: null, createdAt: 0 },
    { name: 'root', globalRole: 'admin' as const, passwordHash: null, createdAt: 0 },
  ],
  bindings: [{ userName: 'alice', clusterId: 'c1', role: 'read-only' as const, createdAt: 0 }],
  tokens: [tok('t-a1', 'alice'), tok('t-a2', 'alice', { revokedAt: 5 }), tok('t-a3', 'alice', { expiresAt: 50 }), tok('t-a4', 'alice', { expiresAt: 500 }), tok('t-b1', 'bob'), tok('t-r1', 'root')],
  adminTokenHash: 'b'.repeat(64),
  droverGroups: ['drover:authenticated'],
  endpoint,
  now: 100,
};

t.test('access set: only users with a role on the cluster (and admins), live tokens only, identities as the proxy', async (t) => {
  const s = buildAccessSet(inputs);
  t.same(s.users.map((u) => u.name), ['alice', 'root', 'admin']);
  t.same(s.users[0]?.identity, { user: 'drover:user:alice', groups: ['drover:authenticated', 'drover:global:user', 'drover:cluster:read-only'] });
  t.same(s.tokens.map((x) => x.id), ['t-a1', 't-a4', 't-r1', 'admin-token'], 'revoked, expired and role-less users\' tokens are left out');
  t.equal(s.tokens.find((x) => x.id === 't-a4')?.expiresAt, 500, 'expiry travels, so the agent refuses it offline');
});

t.test('access set: the revision changes when access changes, not otherwise', async (t) => {
  const a = buildAccessSet(inputs);
  t.equal(buildAccessSet(inputs).revision, a.revision);
  t.not(buildAccessSet({ ...inputs, tokens: inputs.tokens.filter((x) => x.id !== 't-a1') }).revision, a.revision, 'a revoked token');
  t.not(buildAccessSet({ ...inputs, bindings: [] }).revision, a.revision, 'an unbinding');
  const off = buildAccessSet({ ...inputs, endpoint: null });
  t.same([off.endpoint, off.users, off.tokens], [null, [], []], 'disabled: nothing about users leaves the server');
});

t.test('access set: a project role on the cluster lets its user in, with no cluster group (as the proxy)', async (t) => {
  const s = buildAccessSet({ ...inputs, projectUsers: ['bob'] });
  t.same(s.users.find((u) => u.name === 'bob')?.identity, { user: 'drover:user:bob', groups: ['drover:authenticated', 'drover:global:user'] });
  t.ok(s.tokens.some((x) => x.id === 't-b1'));
});

t.test('access set: tokens of identity-provider users carry the provider (audit rows from the edge name it)', async (t) => {
  const s = buildAccessSet({ ...inputs, external: new Map([['alice', { idp: 'ldap', provider: 'corp' }]]) });
  t.match(s.tokens.find((x) => x.id === 't-a1'), { idp: 'ldap', provider: 'corp' });
  t.match(s.tokens.find((x) => x.id === 't-r1'), { idp: 'local' });
  t.notOk('provider' in (s.tokens.find((x) => x.id === 't-r1') ?? {}));
  const twice = buildAccessSet({ ...inputs, bindings: [...inputs.bindings, { ...inputs.bindings[0]!, createdAt: 1 }] });
  t.same(twice.users[0]?.identity.groups, ['drover:authenticated', 'drover:global:user', 'drover:cluster:read-only'], 'a role held directly and through a group is one group');
});
