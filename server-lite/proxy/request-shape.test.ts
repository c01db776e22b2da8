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
