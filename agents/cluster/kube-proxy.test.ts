import t from 'tap';
import { identityFrom, upstreamHeaders } from './kube-proxy.ts';

t.test('cluster proxy: identity only from OPEN metadata; malformed or missing metadata is no identity', async (t) => {
  t.same(identityFrom({ 'drover-user': 'drover:user:a', 'drover-groups': '["g1","g2"]' }), { user: 'drover:user:a', groups: ['g1', 'g2'] });
  t.equal(identityFrom({}), undefined);
  t.equal(identityFrom(undefined), undefined);
  t.equal(identityFrom({ 'drover-user': 'x', 'drover-groups': '{"a":1}' }), undefined);
  t.equal(identityFrom({ 'drover-user': 'x', 'drover-groups': 'nope' }), undefined);
});

t.test('cluster proxy: every client Impersonate-* and Authorization is replaced by the caller identity', async (t) => {
  const out = upstreamHeaders(
    {
      authorization: 'Bearer stolen',
      'impersonate-user': 'admin',
      'impersonate-group': 'system:masters',
      'impersonate-uid': '0',
      'impersonate-extra-reason': 'x',
      accept: 'application/json',
      connection: 'Upgrade',
      upgrade: 'websocket',
    },
    { user: 'drover:user:a', groups: ['drover:authenticated'] },
    false,
  );
  t.same(out, { accept: 'application/json', 'impersonate-user': 'drover:user:a', 'impersonate-group': ['drover:authenticated'] });
  const up = upstreamHeaders({ connection: 'Upgrade', upgrade: 'SPDY/3.1' }, { user: 'u', groups: [] }, true);
  t.same(up, { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'impersonate-user': 'u' });
});
