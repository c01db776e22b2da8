import t from 'tap';
import { createHash } from 'node:crypto';
import { authenticateLocal, indexAccess } from './local-endpoint-auth.ts';
import { checkAccessSet, parseListen } from './access-set.ts';

const h = (s: string): string => createHash('sha256').update(s).digest('hex');
const id = (name: string, role: string, groups: string[]) => ({ name, globalRole: role, identity: { user: `drover:user:${name}`, groups } });
const set = {
  revision: 'r1',
  endpoint: null,
  users: [
    id('alice', 'user', ['drover:authenticated', 'drover:global:user', 'drover:cluster:read-only']),
    id('root', 'admin', ['drover:authenticated', 'drover:global:admin']),
    id('admin', 'admin', ['drover:authenticated', 'drover:global:admin']),
  ],
  tokens: [
    { id: 't-aaaaaaaaaa', secretHash: h('alicesecret'), user: 'alice', idp: 'local', expiresAt: 2_000 },
    { id: 't-bbbbbbbbbb', secretHash: h('rootsecret'), user: 'root', idp: 'local', expiresAt: null },
    { id: 'admin-token', secretHash: h('drover-admin-xyz'), user: 'admin', idp: 'admin-token', expiresAt: null },
  ],
  droverGroups: ['drover:authenticated', 'drover:cluster:read-only', 'drover:global:admin', 'drover:global:user'],
};
const index = indexAccess(set);

t.test('local endpoint auth: a synced token authenticates as the identity the proxy would use', async (t) => {
  const r = authenticateLocal('Bearer t-aaaaaaaaaa.alicesecret', undefined, index, 1_000);
  t.match(r, { ok: true, caller: { user: 'alice', idp: 'local', identity: { user: 'drover:user:alice', groups: ['drover:authenticated', 'drover:global:user', 'drover:cluster:read-only'] } } });
  t.match(authenticateLocal('Bearer drover-admin-xyz', undefined, index, 1_000), { ok: true, caller: { user: 'admin', idp: 'admin-token' } }, 'the admin token by its whole hash');
  const ext = indexAccess({ ...set, tokens: [{ ...set.tokens[0]!, idp: 'oidc', provider: 'dex' }] });
  t.match(authenticateLocal('Bearer t-aaaaaaaaaa.alicesecret', undefined, ext, 1_000), { ok: true, caller: { idp: 'oidc', provider: 'dex' } }, 'an identity provider user: its provider travels to the audit');
});

t.test('local endpoint auth: expired, wrong, unknown and missing tokens are refused with 401', async (t) => {
  t.match(authenticateLocal('Bearer t-aaaaaaaaaa.alicesecret', undefined, index, 2_000), { ok: false, status: 401, message: /expired/ }, 'expired by the agent clock');
  t.match(authenticateLocal('Bearer t-aaaaaaaaaa.wrong', undefined, index, 1_000), { ok: false, status: 401 });
  t.match(authenticateLocal('Bearer t-cccccccccc.x', undefined, index, 1_000), { ok: false, status: 401, message: /not known/ }, 'revoked = no longer synced');
  t.match(authenticateLocal(undefined, undefined, index, 1_000), { ok: false, status: 401, message: /Authorization/ });
  t.match(authenticateLocal('Basic abc', undefined, index, 1_000), { ok: false, status: 401 });
});

t.test('local endpoint auth: impersonation follows the proxy rule', async (t) => {
  const asAlice = { user: 'alice', groups: [], unsupported: [] };
  t.match(authenticateLocal('Bearer t-aaaaaaaaaa.alicesecret', { user: 'root', groups: [], unsupported: [] }, index, 1_000), { ok: false, status: 403, message: /may not impersonate/ });
  t.match(authenticateLocal('Bearer t-bbbbbbbbbb.rootsecret', asAlice, index, 1_000), { ok: true, caller: { user: 'root', impersonated: 'alice', identity: { user: 'drover:user:alice' } } });
  t.match(authenticateLocal('Bearer t-bbbbbbbbbb.rootsecret', { user: 'nobody', groups: [], unsupported: [] }, index, 1_000), { ok: false, status: 403, message: /no Drover user/ });
  t.match(authenticateLocal('Bearer t-bbbbbbbbbb.rootsecret', { user: 'alice', groups: ['system:masters'], unsupported: [] }, index, 1_000), { ok: false, status: 403, message: /only Drover groups/ });
  t.match(
    authenticateLocal('Bearer t-bbbbbbbbbb.rootsecret', { user: 'alice', groups: ['drover:cluster:read-only'], unsupported: [] }, index, 1_000),
    { ok: true, caller: { identity: { groups: ['drover:authenticated', 'drover:cluster:read-only'] } } },
  );
});

t.test('access set: checked at the boundary', async (t) => {
  t.ok(checkAccessSet(set).ok);
  t.match(checkAccessSet({ ...set, tokens: [{ ...set.tokens[0], secretHash: 'zz' }] }), { ok: false });
  t.match(checkAccessSet({ ...set, tokens: [{ ...set.tokens[0], user: 'ghost' }] }), { ok: false, reason: /ghost/ });
  t.match(checkAccessSet({ ...set, endpoint: { listen: 1 } }), { ok: false });
  t.match(checkAccessSet(null), { ok: false });
  t.same(parseListen('0.0.0.0:9444'), { host: '0.0.0.0', port: 9444 });
  t.same(parseListen(':9444'), { host: '0.0.0.0', port: 9444 });
  t.same(parseListen('[::1]:80'), { host: '::1', port: 80 });
  t.equal(parseListen('host'), undefined);
  t.equal(parseListen('h:99999'), undefined);
});
