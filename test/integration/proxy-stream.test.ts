// The proxy path in one process: a real server-lite, a tunnel session serving the cluster agent's
// stream targets (agents/cluster/stream-router.ts) over a real WebSocket, and a real harness
// kube-apiserver. Checks what the end-to-end test cannot see from outside: the caller's headers
// never reach the apiserver as sent, a cancelled watch closes the stream at the agent, RBAC is
// propagated as whole sets and pruned on unbind, and facts are pulled into the store.
import t from 'tap';
import https from 'node:https';
import pino from 'pino';
import { startCluster } from '../k8s/harness.ts';
import { api, connectTunnel, createToken, registerAgent, removeDir, startTestServer, eventually } from './server-harness.ts';
import { clusterStreamHandler } from '../../agents/cluster/stream-router.ts';
import { KubeUpstream } from '../../agents/cluster/kube-upstream.ts';

t.test('proxy stream: identity, cancellation, RBAC sync and facts through a real tunnel', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const server = await startTestServer();
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const token = await createToken(server, { labels: { site: 'x' } });
  const reg = await registerAgent(server, token.secret, { roles: ['cluster'] });
  const tunnel = await connectTunnel(server, reg.credential, 'cluster');
  t.teardown(() => tunnel.ws.close());
  const opened: { target: string; closed: boolean }[] = [];
  const handler = clusterStreamHandler(cluster.kubeconfig, pino({ level: 'silent' }));
  tunnel.session.on('stream', (s) => {
    const rec = { target: s.target, closed: false };
    opened.push(rec);
    s.once('close', () => (rec.closed = true));
    handler(s);
  });
  await tunnel.ready;
  const kube = await KubeUpstream.fromKubeconfig(cluster.kubeconfig);
  t.teardown(() => kube.close());

  const proxy = (method: string, path: string, bearer: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<{ status: number; text: string; res: import('node:http').IncomingMessage; req: import('node:http').ClientRequest }>((resolve, reject) => {
      const req = https.request(`${server.url}/k8s/clusters/${reg.clusterId}${path}`, { method, ca: server.caPem, agent: false, headers: { authorization: `Bearer ${bearer}`, ...headers } }, (res) => {
        if (path.includes('watch=')) return resolve({ status: res.statusCode ?? 0, text: '', res, req });
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, res, req }));
      });
      req.on('error', reject);
      req.end(body);
    });

  await t.test('RBAC: the agent applies the whole set, and prunes a binding after unbind', async (t) => {
    await api(server, 'POST', '/v1/users', { bearer: server.adminToken, body: { name: 'dora' } });
    await api(server, 'POST', '/v1/rolebindings', { bearer: server.adminToken, body: { user: 'dora', clusterId: reg.clusterId, role: 'read-only' } });
    await eventually(async () => (await kube.json('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/drover-read-only')).status === 200, 'binding applied');
    const b = (await kube.json('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/drover-read-only')).body as { subjects: { name: string }[] };
    t.same(b.subjects.map((s) => s.name), ['drover:user:dora']);
    await api(server, 'DELETE', `/v1/rolebindings/dora/${reg.clusterId}/read-only`, { bearer: server.adminToken });
    await eventually(async () => (await kube.json('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/drover-read-only')).status === 404, 'binding pruned');
    t.equal((await kube.json('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/drover-read-only')).status, 200, 'the ClusterRole stays');
  });

  await t.test('identity: the apiserver sees the Drover user; Impersonate-* is refused, or mapped for an admin', async (t) => {
    await api(server, 'POST', '/v1/rolebindings', { bearer: server.adminToken, body: { user: 'dora', clusterId: reg.clusterId, role: 'read-only' } });
    const dora = ((await api(server, 'POST', '/v1/users/dora/tokens', { bearer: server.adminToken, body: {} })).json as { token: string }).token;
    await eventually(async () => (await proxy('GET', '/api/v1/namespaces/default/pods', dora)).status === 200, 'dora can list');
    const review = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const whoAmI = async (bearer: string, headers: Record<string, string> = {}) => {
      const r = await proxy('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', bearer, { 'content-type': 'application/json', ...headers }, review);
      return { status: r.status, text: r.text, info: r.status === 201 ? (JSON.parse(r.text) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo : undefined };
    };
    const plain = await whoAmI(dora);
    t.equal(plain.info?.username, 'drover:user:dora', plain.text);
    t.ok(plain.info?.groups.includes('drover:cluster:read-only'), 'the Drover role is a group');

    const before = opened.length;
    const posing = await whoAmI(dora, { 'Impersonate-User': 'admin', 'impersonate-group': 'system:masters' });
    t.equal(posing.status, 403, 'a user may not impersonate');
    const body = JSON.parse(posing.text) as { kind: string; reason: string; message: string; error: { code: string } };
    t.equal(body.kind, 'Status', 'a Kubernetes Status, so kubectl prints the message');
    t.equal(body.reason, 'Forbidden');
    t.equal(body.error.code, 'IMPERSONATION_FORBIDDEN');
    t.match(body.message, 'dora may not impersonate');
    t.equal(opened.length, before, 'nothing reached the agent');

    const asDora = await whoAmI(server.adminToken, { 'Impersonate-User': 'drover:user:dora' });
    t.equal(asDora.info?.username, 'drover:user:dora', `an admin acts as dora: ${asDora.text}`);
    t.ok(asDora.info?.groups.includes('drover:cluster:read-only'), "with dora's roles");
    t.notOk(asDora.info?.groups.includes('drover:global:admin'), "and not the admin's");
    const masters = await whoAmI(server.adminToken, { 'Impersonate-User': 'dora', 'Impersonate-Group': 'system:masters' });
    t.equal(masters.status, 403, 'only Drover groups');
    const create = await proxy('POST', '/api/v1/namespaces/default/configmaps', server.adminToken, { 'content-type': 'application/json', 'impersonate-user': 'dora' }, JSON.stringify({ metadata: { name: 'x' } }));
    t.equal(create.status, 403, "RBAC refuses dora's write, also when an admin acts as her");
  });

  await t.test('cancellation: closing a watch closes its stream at the agent', async (t) => {
    const before = opened.length;
    const w = await proxy('GET', '/api/v1/namespaces/default/configmaps?watch=1', server.adminToken);
    t.equal(w.status, 200);
    const stream = opened[before];
    t.ok(stream && !stream.closed, 'the watch holds a stream');
    w.req.destroy();
    await eventually(() => stream?.closed === true, 'stream closed at the agent');
  });

  await t.test('facts: nodes and version are pulled into cluster get', async (t) => {
    await eventually(async () => {
      const d = (await api(server, 'GET', `/v1/clusters/${reg.clusterId}`, { bearer: server.adminToken })).json as { kubernetes: { nodes?: unknown[] } | null };
      return (d.kubernetes?.nodes?.length ?? 0) > 0;
    }, 'facts pulled');
  });
});
