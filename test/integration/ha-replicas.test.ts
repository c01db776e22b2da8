// Two server replicas in one process on one shared SQLite file (WAL), each with its own data dir
// holding copies of the same CA and admin token, a cluster agent's tunnel on one of them and a real
// kube-apiserver behind it (test/k8s/harness.ts). Checks what issue 17 asks of replicas apart from
// processes and the load balancer (test/e2e/ha-haproxy.test.ts): the proxy on either replica
// reaches the cluster (plain and watch), a binding made on the other replica reaches the agent,
// newest wins across replicas, and the git-polling lease sits on one replica and moves.
import t from 'tap';
import https from 'node:https';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { startCluster } from '../k8s/harness.ts';
import { api, connectTunnel, createToken, registerAgent, removeDir, tempDir, eventually, type TestTunnel } from './server-harness.ts';
import { startServer, type RunningServer } from '../../server-lite/server.ts';
import { clusterStreamHandler } from '../../agents/cluster/stream-router.ts';
import { KubeUpstream } from '../../agents/cluster/kube-upstream.ts';
import { APPLICATION_CLOSE_CODES } from '../../protocol/index.ts';

process.env.DROVER_HA_HEARTBEAT_MS = '200';

const root = tempDir('drover-ha-');
t.teardown(() => removeDir(root));
const shared = `sqlite://${join(root, 'shared.db')}`;

async function replica(name: string, copyFrom?: string): Promise<RunningServer & { dataDir: string }> {
  const dataDir = join(root, name);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (copyFrom) {
    // Replicas share the CA and the admin token (docs/ha.md: a copied data dir).
    cpSync(join(copyFrom, 'tls'), join(dataDir, 'tls'), { recursive: true });
    for (const f of ['admin-token', 'secrets.key']) if (existsSync(join(copyFrom, f))) cpSync(join(copyFrom, f), join(dataDir, f));
  }
  const s = await startServer(
    { dataDir, host: '127.0.0.1', port: 0, tlsSans: [], datastore: shared, advertiseAddress: '127.0.0.1:0' },
    { log: pino({ level: process.env.DROVER_TEST_LOG ?? 'silent' }), defaultMetrics: false },
  );
  return Object.assign(s, { dataDir });
}

function get(server: { url: string; caPem: string }, path: string, bearer: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    https.get(`${server.url}${path}`, { ca: server.caPem, agent: false, headers: { authorization: `Bearer ${bearer}` } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    }).on('error', reject);
  });
}

function serve(tunnel: TestTunnel, kubeconfig: string): void {
  const handler = clusterStreamHandler(kubeconfig, pino({ level: 'silent' }));
  tunnel.session.on('stream', (s) => handler(s));
}

t.test('HA replicas on one database: forwarding, newest wins, leases', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const a = await replica('a');
  const b = await replica('b', a.dataDir);
  let bClosed = false;
  t.teardown(async () => {
    if (!bClosed) await b.close();
    await a.close();
  });
  t.equal(b.adminToken, a.adminToken);
  t.equal(b.caHash, a.caHash, 'one CA for all replicas');

  const token = await createToken(a);
  const reg = await registerAgent(a, token.secret, { roles: ['cluster'] });
  const onA = await connectTunnel(a, reg.credential, 'cluster');
  serve(onA, cluster.kubeconfig);
  await onA.ready;
  const kube = await KubeUpstream.fromKubeconfig(cluster.kubeconfig);
  t.teardown(() => kube.close());

  await t.test('the proxy on the other replica reaches the cluster through the owning one', async (t) => {
    const path = `/k8s/clusters/${reg.clusterId}/api/v1/namespaces/default/configmaps`;
    await eventually(async () => (await get(b, path, b.adminToken)).status === 200, 'B forwards to A');
    const direct = await get(a, path, a.adminToken);
    const viaB = await get(b, path, b.adminToken);
    t.equal(direct.status, 200);
    t.same(JSON.parse(viaB.text).kind, 'ConfigMapList');
    const unknown = await get(b, '/k8s/clusters/c-nope/api/v1/namespaces', b.adminToken);
    t.equal(unknown.status, 404, 'unknown clusters stay unknown on every replica');
  });

  await t.test('the other replica shows the cluster Connected (its tunnel is alive on a live replica)', async (t) => {
    const state = async () => ((await api(b, 'GET', '/v1/clusters', { bearer: b.adminToken })).json as Array<{ id: string; state: string }>).find((c) => c.id === reg.clusterId)?.state;
    await eventually(async () => (await state()) === 'Connected', 'Connected on B');
    t.equal(await state(), 'Connected');
  });

  await t.test('a watch through the forwarding replica streams events as they happen', async (t) => {
    const events: string[] = [];
    const req = https.get(`${b.url}/k8s/clusters/${reg.clusterId}/api/v1/namespaces/default/configmaps?watch=true`, { ca: b.caPem, agent: false, headers: { authorization: `Bearer ${b.adminToken}` } }, (res) => {
      t.equal(res.statusCode, 200);
      res.on('data', (c: Buffer) => events.push(c.toString()));
    });
    t.teardown(() => req.destroy());
    await new Promise((r) => setTimeout(r, 200));
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ha-watch' }, data: { k: 'v' } };
    t.equal((await kube.json('POST', '/api/v1/namespaces/default/configmaps', cm)).status, 201);
    await eventually(() => events.join('').includes('"ha-watch"'), 'the ADDED event arrived through B');
    req.destroy();
  });

  await t.test('cluster get on the other replica pulls fresh Kubernetes facts through the owning one', async (t) => {
    await eventually(async () => (await a.ctx.store.getKubeFacts(reg.clusterId)) !== undefined, 'facts pulled by A on connect');
    const stored = (await a.ctx.store.getKubeFacts(reg.clusterId))!;
    // Backdated: only a pull made now (B's read, through A's tunnel) replaces it before A's next interval.
    await a.ctx.store.setKubeFacts(reg.clusterId, { ...stored, collectedAt: '2000-01-01T00:00:00.000Z' });
    const got = await api(b, 'GET', `/v1/clusters/${reg.clusterId}`, { bearer: b.adminToken });
    t.equal(got.status, 200);
    const facts = (got.json as { kubernetes: { collectedAt: string } | null }).kubernetes;
    t.not(facts?.collectedAt, '2000-01-01T00:00:00.000Z', `fresh facts through B: ${facts?.collectedAt}`);
  });

  await t.test('a role binding made on the other replica reaches the agent (kick forwarded)', async (t) => {
    t.equal((await api(b, 'POST', '/v1/users', { bearer: b.adminToken, body: { name: 'hana' } })).status, 201);
    t.equal((await api(b, 'POST', '/v1/rolebindings', { bearer: b.adminToken, body: { user: 'hana', clusterId: reg.clusterId, role: 'read-only' } })).status, 201);
    await eventually(async () => (await kube.json('GET', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/drover-read-only')).status === 200, 'binding applied via A', 400);
    t.pass('applied');
  });

  await t.test('the git-polling lease is held by exactly one replica', async (t) => {
    // Also held: upgrade-scheduling (decision 1112); plan scheduling is not a lease here (plans.db per replica on SQLite).
    const held = () => [...(a.ctx.ha?.leases.held() ?? []), ...(b.ctx.ha?.leases.held() ?? [])].sort();
    await eventually(() => held().length === 2, 'one holder each');
    t.same(held(), ['git-polling', 'upgrade-scheduling']);
  });

  await t.test('newest wins across replicas: a reconnect to B closes the tunnel on A', async (t) => {
    const onB = await connectTunnel(b, reg.credential, 'cluster');
    serve(onB, cluster.kubeconfig);
    await onB.ready;
    const closed = await onA.closed;
    t.equal(closed.code, APPLICATION_CLOSE_CODES.SESSION_SUPERSEDED, 'A closed its tunnel as superseded');
    await eventually(() => !a.ctx.sessions.hasAgent(reg.agentId), 'A forgot it');
    const path = `/k8s/clusters/${reg.clusterId}/api/v1/namespaces/default/configmaps/ha-watch`;
    await eventually(async () => (await get(a, path, a.adminToken)).status === 200, 'A now forwards to B');
    t.teardown(() => onB.ws.close());
  });

  await t.test('a replica that stops releases its lease and its routes at once', async (t) => {
    const holder = a.ctx.ha?.leases.held().includes('git-polling') === true ? a : b;
    const other = holder === a ? b : a;
    if (holder === b) bClosed = true;
    await holder.close();
    await eventually(() => other.ctx.ha?.leases.held().includes('git-polling') === true, 'the other replica took the lease');
    t.pass('moved');
  });
});
