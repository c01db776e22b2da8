// Keep-alive streams through the real proxy (decision 1200, SPEC.md §10.2): a real server-lite, the
// cluster agent's stream targets (agents/cluster/stream-router.ts) on a real WebSocket tunnel and a
// real harness kube-apiserver. Sequential proxied requests share one `http:kube-apiserver` stream;
// two users on that one stream are each seen by the apiserver as themselves; a stream the agent
// resets is not reused; the idle timeout (ManualClock) closes it at the agent; an agent without
// HTTP_KEEPALIVE gets a stream per request, as before.
import t from 'tap';
import https from 'node:https';
import pino from 'pino';
import { startCluster } from '../k8s/harness.ts';
import { api, connectTunnel, createToken, registerAgent, removeDir, startTestServer, eventually } from './server-harness.ts';
import { clusterStreamHandler } from '../../agents/cluster/stream-router.ts';
import { KEEPALIVE_METADATA, KUBE_API_TARGET, KUBE_IDENTITY_METADATA, ManualClock, type TunnelStream } from '../../protocol/index.ts';

t.test('proxy keep-alive: one stream for sequential requests, identity per request, resets, old agents', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const poolClock = new ManualClock();
  const server = await startTestServer({ proxyPool: { timers: poolClock, idleTimeoutMs: 15_000 } });
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const handler = clusterStreamHandler(cluster.kubeconfig, pino({ level: 'silent' }));

  /** A cluster agent; `old`: without HTTP_KEEPALIVE (as the previous release). Records its kube streams. */
  async function agent(old: boolean) {
    const token = await createToken(server, { labels: { site: old ? 'old' : 'new' } });
    const reg = await registerAgent(server, token.secret, { roles: ['cluster'], hostname: old ? 'edge-old' : 'edge-new' });
    const tunnel = await connectTunnel(server, reg.credential, 'cluster', old ? { maskCapabilities: ['HTTP_KEEPALIVE'] } : {});
    t.teardown(() => tunnel.ws.close());
    const kube: TunnelStream[] = [];
    tunnel.session.on('stream', (s) => {
      if (s.target === KUBE_API_TARGET) kube.push(s);
      handler(s);
    });
    await tunnel.ready;
    return { reg, tunnel, kube, live: () => kube.filter((s) => !s.destroyed) };
  }

  const proxy = (clusterId: string, method: string, path: string, bearer: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(`${server.url}/k8s/clusters/${clusterId}${path}`, { method, ca: server.caPem, agent: false, headers: { authorization: `Bearer ${bearer}`, ...headers } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const review = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  const whoAmI = async (clusterId: string, bearer: string, headers: Record<string, string> = {}) => {
    const r = await proxy(clusterId, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', bearer, { 'content-type': 'application/json', ...headers }, review);
    if (r.status !== 201) throw new Error(`SelfSubjectReview: ${r.status} ${r.text}`);
    return (JSON.parse(r.text) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
  };
  /** Node hands a stream back to the pool on the tick after its response ended. */
  const idleOn = async (a: { live: () => TunnelStream[] }, n: number) => eventually(() => a.live().length === n, `${n} live kube stream(s)`);

  const users: Record<string, string> = {};
  await t.test('setup: two read-only users', async () => {
    for (const name of ['alice', 'bob']) {
      await api(server, 'POST', '/v1/users', { bearer: server.adminToken, body: { name } });
      users[name] = ((await api(server, 'POST', `/v1/users/${name}/tokens`, { bearer: server.adminToken, body: {} })).json as { token: string }).token;
    }
  });

  const a = await agent(false);
  await t.test('new agent: sequential requests of two users share one stream, each as themselves', async (t) => {
    for (const name of ['alice', 'bob']) {
      await api(server, 'POST', '/v1/rolebindings', { bearer: server.adminToken, body: { user: name, clusterId: a.reg.clusterId, role: 'read-only' } });
      // The agent applies the RBAC set on its own streams; until then the apiserver says 403.
      await eventually(async () => (await proxy(a.reg.clusterId, 'GET', '/api/v1/namespaces/default/configmaps', users[name] ?? '')).status === 200, `${name} can list`);
    }
    t.equal(a.kube.length, 1, 'every request so far on one stream');
    t.equal(a.kube[0]?.metadata[KEEPALIVE_METADATA], '1', 'a keep-alive stream');
    t.equal(a.kube[0]?.metadata[KUBE_IDENTITY_METADATA.user], undefined, 'which names no caller');
    const N = 12;
    for (let i = 0; i < N; i++) {
      const name = i % 2 === 0 ? 'alice' : 'bob';
      const r = await proxy(a.reg.clusterId, 'GET', '/api/v1/namespaces/default/configmaps/kube-root-ca.crt', users[name] ?? '');
      t.equal(r.status, 200, `GET ${i} as ${name}`);
      const me = await whoAmI(a.reg.clusterId, users[name] ?? '');
      t.equal(me.username, `drover:user:${name}`, `request ${i}: the apiserver sees ${name}, not the stream's previous caller`);
    }
    // A client's own X-Drover-User never reaches the agent: the server drops it and sets its own.
    const posing = await whoAmI(a.reg.clusterId, users.bob ?? '', { 'x-drover-user': 'drover:user:alice', 'X-Drover-Groups': '["system:masters"]' });
    t.equal(posing.username, 'drover:user:bob', 'X-Drover-* from a client is dropped');
    t.notOk(posing.groups.includes('system:masters'));
    const admin = await whoAmI(a.reg.clusterId, server.adminToken);
    t.not(admin.username, 'drover:user:bob', 'the admin after bob on the same stream is the admin');
    t.equal(a.kube.length, 1, `${2 * N + 2} more requests, still the one stream`);
  });

  await t.test('new agent: a stream the agent resets is not reused', async (t) => {
    await idleOn(a, 1);
    a.kube[0]?.reset('STREAM_CANCELLED', 'agent drops it');
    const r = await proxy(a.reg.clusterId, 'GET', '/api/v1/namespaces/default/configmaps', users.alice ?? '');
    t.equal(r.status, 200);
    t.equal(a.kube.length, 2, 'a new stream');
    await idleOn(a, 1);
    t.notOk(a.kube[1]?.destroyed, 'the new one is kept');
  });

  await t.test('new agent: the idle timeout closes the stream at the agent; the next request opens one', async (t) => {
    await idleOn(a, 1);
    poolClock.advance(14_999);
    t.equal(a.live().length, 1, 'not yet');
    poolClock.advance(1);
    await idleOn(a, 0);
    t.equal((await proxy(a.reg.clusterId, 'GET', '/api/v1/namespaces/default/configmaps', users.bob ?? '')).status, 200);
    t.equal(a.kube.length, 3);
  });

  await t.test('new agent: watches keep a stream of their own, named in its OPEN metadata', async (t) => {
    await idleOn(a, 1);
    const before = a.kube.length;
    const w = await new Promise<import('node:http').ClientRequest>((resolve, reject) => {
      const req = https.request(`${server.url}/k8s/clusters/${a.reg.clusterId}/api/v1/namespaces/default/configmaps?watch=1`, { ca: server.caPem, agent: false, headers: { authorization: `Bearer ${users.alice}` } }, (res) => {
        if (res.statusCode === 200) resolve(req);
        else reject(new Error(`watch: ${res.statusCode}`));
      });
      req.on('error', reject);
      req.end();
    });
    const s = a.kube[before];
    t.equal(s?.metadata[KEEPALIVE_METADATA], undefined, 'not a pooled stream');
    t.equal(s?.metadata[KUBE_IDENTITY_METADATA.user], 'drover:user:alice');
    t.equal((await proxy(a.reg.clusterId, 'GET', '/api/v1/namespaces/default/configmaps', users.bob ?? '')).status, 200, 'a GET beside the watch');
    t.equal(a.kube.length, before + 1, 'took the idle pooled stream');
    w.destroy();
    await eventually(() => s?.destroyed === true, 'the watch stream closes at the agent');
  });

  await t.test('old agent (no HTTP_KEEPALIVE): a stream per request, the caller in its OPEN metadata', async (t) => {
    const o = await agent(true);
    await api(server, 'POST', '/v1/rolebindings', { bearer: server.adminToken, body: { user: 'alice', clusterId: o.reg.clusterId, role: 'read-only' } });
    await eventually(async () => (await proxy(o.reg.clusterId, 'GET', '/api/v1/namespaces/default/configmaps', users.alice ?? '')).status === 200, 'alice can list');
    const before = o.kube.length;
    for (let i = 0; i < 4; i++) t.equal((await whoAmI(o.reg.clusterId, users.alice ?? '')).username, 'drover:user:alice');
    t.equal(o.kube.length, before + 4, 'four requests, four streams');
    t.ok(o.kube.every((s) => s.metadata[KEEPALIVE_METADATA] === undefined && s.metadata[KUBE_IDENTITY_METADATA.user] === 'drover:user:alice'));
    await eventually(() => o.live().length === 0, 'each closed after its exchange');
  });
});
