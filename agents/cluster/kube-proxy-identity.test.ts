// Where the cluster agent reads a proxied request's caller (decision 1200): a one-exchange stream
// names it in its OPEN metadata, a keep-alive stream in each request's X-Drover-User/-Groups; the
// other source is ignored, and X-Drover-* never reaches the apiserver.
import t from 'tap';
import { KEEPALIVE_METADATA, KUBE_IDENTITY_HEADERS, KUBE_IDENTITY_METADATA } from '../../protocol/index.ts';
import { identityFromHeaders, streamIdentity, upstreamHeaders } from './kube-proxy.ts';

const meta = { [KUBE_IDENTITY_METADATA.user]: 'drover:user:ann', [KUBE_IDENTITY_METADATA.groups]: '["drover:cluster:read-only"]' };
const hdrs = { [KUBE_IDENTITY_HEADERS.user]: 'drover:user:bo', [KUBE_IDENTITY_HEADERS.groups]: '["g1"]' };

t.test('identity: one-exchange streams from metadata only, keep-alive streams from the request only', async (t) => {
  t.same(streamIdentity(meta, hdrs), { user: 'drover:user:ann', groups: ['drover:cluster:read-only'] }, 'metadata wins on a one-exchange stream');
  t.same(streamIdentity(meta, {}), { user: 'drover:user:ann', groups: ['drover:cluster:read-only'] });
  t.equal(streamIdentity({}, hdrs), undefined, 'headers are not read on a one-exchange stream');
  const ka = { [KEEPALIVE_METADATA]: '1' };
  t.same(streamIdentity(ka, hdrs), { user: 'drover:user:bo', groups: ['g1'] });
  t.equal(streamIdentity({ ...ka, ...meta }, {}), undefined, 'a keep-alive stream never lends its metadata to a request');
  t.same(streamIdentity(ka, { [KUBE_IDENTITY_HEADERS.user]: 'u' }), { user: 'u', groups: [] }, 'no groups header: no groups');
});

t.test('identity: malformed headers are no identity', async (t) => {
  t.equal(identityFromHeaders({}), undefined);
  t.equal(identityFromHeaders({ [KUBE_IDENTITY_HEADERS.user]: '' }), undefined);
  t.equal(identityFromHeaders({ [KUBE_IDENTITY_HEADERS.user]: 'u', [KUBE_IDENTITY_HEADERS.groups]: 'not json' }), undefined);
  t.equal(identityFromHeaders({ [KUBE_IDENTITY_HEADERS.user]: 'u', [KUBE_IDENTITY_HEADERS.groups]: '[1]' }), undefined);
  t.equal(identityFromHeaders({ [KUBE_IDENTITY_HEADERS.user]: ['a', 'b'] as unknown as string }), undefined);
});

t.test('identity: X-Drover-* is dropped before the apiserver', async (t) => {
  const out = upstreamHeaders({ ...hdrs, 'x-drover-other': 'x', accept: 'application/json' }, { user: 'drover:user:bo', groups: ['g1'] }, false);
  t.same(Object.keys(out).filter((k) => k.startsWith('x-drover-')), []);
  t.equal(out['impersonate-user'], 'drover:user:bo');
  t.same(out['impersonate-group'], ['g1']);
  t.equal(out.accept, 'application/json');
});
