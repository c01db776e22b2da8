import t from 'tap';
import { forwardHeaders, kubeVerb, parseProxyUrl } from './request-shape.ts';

t.test('proxy url: cluster id and the Kubernetes path with its query', async (t) => {
  t.same(parseProxyUrl('/k8s/clusters/c-abc/api/v1/pods?watch=1'), { clusterId: 'c-abc', path: '/api/v1/pods?watch=1' });
  t.same(parseProxyUrl('/k8s/clusters/c-abc'), { clusterId: 'c-abc', path: '/' });
  t.same(parseProxyUrl('/k8s/clusters/c-abc?timeout=32s'), { clusterId: 'c-abc', path: '/?timeout=32s' });
  t.equal(parseProxyUrl('/k8s/clusters/../etc'), undefined);
  t.equal(parseProxyUrl('/v1/clusters/c-abc'), undefined);
});

t.test('proxy headers: the bearer token and every Impersonate-* header are stripped, whatever their case', async (t) => {
  const out = forwardHeaders(
    {
      authorization: 'Bearer secret',
      'impersonate-user': 'admin',
      'Impersonate-Group': 'system:masters',
      'impersonate-extra-scopes': 'x',
      'impersonate-uid': '1',
      accept: 'application/json',
      connection: 'Upgrade',
      upgrade: 'websocket',
      host: 'drover',
    },
    false,
  );
  t.same(out, { accept: 'application/json' });
  t.same(forwardHeaders({ connection: 'Upgrade', upgrade: 'SPDY/3.1', 'impersonate-user': 'x' }, true), { connection: 'Upgrade', upgrade: 'SPDY/3.1' });
});

t.test('proxy verbs: Kubernetes verbs from method, path and watch', async (t) => {
  t.equal(kubeVerb('GET', '/api/v1/nodes'), 'list');
  t.equal(kubeVerb('GET', '/api/v1/namespaces/default/pods?watch=true'), 'watch');
  t.equal(kubeVerb('GET', '/api/v1/namespaces/default/pods/p1/log?follow=true'), 'get');
  t.equal(kubeVerb('GET', '/api/v1/namespaces'), 'list');
  t.equal(kubeVerb('GET', '/api/v1/namespaces/default'), 'get');
  t.equal(kubeVerb('POST', '/apis/apps/v1/namespaces/default/deployments'), 'create');
  t.equal(kubeVerb('PATCH', '/apis/apps/v1/namespaces/default/deployments/web'), 'patch');
  t.equal(kubeVerb('DELETE', '/api/v1/namespaces/default/pods'), 'deletecollection');
  t.equal(kubeVerb('GET', '/version'), 'get');
});

t.test('proxy headers: no Impersonate-* or Authorization survives, whatever the spelling (property)', async (t) => {
  const fc = (await import('fast-check')).default;
  const mixCase = (s: string, bits: number[]) => [...s].map((c, i) => ((bits[i % bits.length] ?? 0) % 2 ? c.toUpperCase() : c)).join('');
  fc.assert(
    fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.stringMatching(/^[a-z-]{1,12}$/), fc.boolean(), (bits, suffix, upgrade) => {
      const headers = { [mixCase(`impersonate-${suffix}`, bits)]: 'x', [mixCase('authorization', bits)]: 'Bearer y', accept: '*/*' };
      const out = Object.keys(forwardHeaders(headers, upgrade)).map((k) => k.toLowerCase());
      return out.every((k) => !k.startsWith('impersonate-') && k !== 'authorization') && out.includes('accept');
    }),
  );
});
