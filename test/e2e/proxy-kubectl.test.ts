// Issue 5 acceptance: two harness clusters registered with a real `drover server`; the built
// kubectl (unchanged) reaches them through the server with generated kubeconfigs. Streaming and
// upgrades end to end (watch, logs -f, exec, port-forward); Kubernetes RBAC propagated from Drover
// role bindings decides (read-only cannot create; unbinding removes access; a binding made while
// the cluster is offline applies after it reconnects); a user without a role on cluster B never
// reaches B's agent; a user's Impersonate-* is refused with a message; every call is audited and
// `audit verify` finds a tampered row.
import t from 'tap';
import path from 'node:path';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { startCluster, tools, criLogLine, type TestCluster } from '../k8s/harness.ts';
import { agentStatus, childEnv, clusterGet, createToken, drover, DROVER, startAgent, startServer, waitFor, type Proc, testDir } from './agent-helpers.ts';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.example/web:1}]}
`;

t.test('proxy: kubectl through the server to two clusters, RBAC, audit', async (t) => {
  const [a, b] = await Promise.all([startCluster({ nodes: 2 }), startCluster({ nodes: 1 })]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]).then(() => undefined));
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());

  async function join(cluster: TestCluster, name: string): Promise<{ id: string; agentDir: string; agent: Proc }> {
    const agentDir = path.join(dir, `agent-${name}`);
    const token = await createToken(serverDir, ['--labels', `site=${name}`]);
    const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
    if (reg.exitCode !== 0) throw new Error(reg.stderr);
    const agent = startAgent(agentDir, ['--roles', 'cluster']);
    const s = await waitFor(`agent ${name} connected`, async () => {
      const st = await agentStatus(agentDir);
      return st.roles[0]?.state === 'connected' ? st : undefined;
    });
    return { id: s.clusterId, agentDir, agent };
  }
  const A = await join(a, 'a');
  const B = await join(b, 'b');
  t.teardown(() => Promise.all([A.agent.stop(), B.agent.stop()]).then(() => undefined));

  const admin = (args: string[], input?: string) =>
    execa(DROVER, [...args, '--data-dir', serverDir], { reject: false, env: childEnv(), extendEnv: false, ...(input === undefined ? {} : { input }) });
  const kubeconfigFor = async (cluster: string, user?: string): Promise<string> => {
    const r = await admin(['kubeconfig', cluster, ...(user ? ['--user', user] : [])]);
    if (r.exitCode !== 0) throw new Error(String(r.stderr));
    const file = path.join(dir, `kc-${cluster}-${user ?? 'admin'}.yaml`);
    writeFileSync(file, String(r.stdout));
    return file;
  };
  const kubectl = (kc: string, ...args: string[]) => kubectlEnv({}, kc, ...args);
  const kubectlEnv = (env: Record<string, string>, kc: string, ...args: string[]) =>
    execa(tools.kubectl(), ['--kubeconfig', kc, '--cache-dir', path.join(dir, `cache-${path.basename(kc)}`), ...args], { reject: false, timeout: 60_000, env });
  const kubeRequests = (agent: Proc) => agent.logs().filter((l) => l.msg === 'kube request' || l.msg === 'kube upgrade').length;

  const adminA = await kubeconfigFor(A.id);
  t.test('admin: get nodes, apply a Deployment, watch, logs -f, exec, port-forward', async (t) => {
    const nodes = await waitFor('get nodes through the proxy', async () => {
      const r = await kubectl(adminA, 'get', 'nodes', '-o', 'name');
      return r.exitCode === 0 ? String(r.stdout) : undefined;
    });
    t.equal(nodes.trim().split('\n').length, 2, 'both kwok nodes of cluster A');
    const file = path.join(dir, 'deploy.yaml');
    writeFileSync(file, DEPLOYMENT);
    const applied = await kubectl(adminA, 'apply', '-f', file);
    t.equal(applied.exitCode, 0, String(applied.stderr));
    t.match(String(applied.stdout), 'deployment.apps/web created');

    const watch = spawn(tools.kubectl(), ['--kubeconfig', adminA, 'get', 'pods', '-w', '-o', 'name', '--cache-dir', path.join(dir, 'cache-w')]);
    t.teardown(() => void watch.kill());
    let watched = '';
    watch.stdout.on('data', (d: Buffer) => (watched += d.toString()));
    await waitFor('the watch to start', () => watched.length > 0 || kubeRequests(A.agent) > 0);
    const run = await kubectl(adminA, 'run', 'p1', '--image=registry.example/p:1');
    t.equal(run.exitCode, 0, String(run.stderr));
    await waitFor('p1 in the running watch', () => watched.includes('pod/p1'));
    t.pass('get pods -w received the new pod while watching');
    const before = watched.length;
    watch.kill();
    t.ok(before > 0);

    const ready = await kubectl(adminA, 'wait', '--for=condition=Ready', 'pod/p1', '--timeout=60s');
    t.equal(ready.exitCode, 0, String(ready.stderr));
    const exec = await kubectl(adminA, 'exec', 'p1', '--', 'echo', 'hi');
    t.equal(String(exec.stdout), 'hi', `exec through the proxy: ${String(exec.stderr)}`);
    // kubectl 1.34 speaks WebSocket by default; the SPDY/3.1 fallback must work too.
    const spdy = await kubectlEnv({ KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }, adminA, 'exec', 'p1', '--', 'echo', 'hi');
    t.equal(String(spdy.stdout), 'hi', `exec over SPDY: ${String(spdy.stderr)}`);
    const upgrades = A.agent.logs().filter((l) => l.msg === 'kube upgrade').map((l) => String(l.upgrade).toLowerCase());
    t.ok(upgrades.includes('websocket') && upgrades.includes('spdy/3.1'), `both upgrade kinds reached the agent: ${upgrades.join(', ')}`);

    const follow = spawn(tools.kubectl(), ['--kubeconfig', adminA, 'logs', '-f', 'p1', '--cache-dir', path.join(dir, 'cache-l')]);
    t.teardown(() => void follow.kill());
    let logs = '';
    follow.stdout.on('data', (d: Buffer) => (logs += d.toString()));
    await waitFor('the first log line', () => logs.includes('fake pod started'));
    appendFileSync(a.podLog, criLogLine('written while following through drover'));
    await waitFor('the appended log line', () => logs.includes('written while following through drover'));
    t.pass('logs -f streamed a line appended after it began');
    follow.kill();

    const backend = createServer((_req, res) => res.end('pod backend via drover'));
    await new Promise<void>((r) => backend.listen(a.ports.podBackend, '127.0.0.1', () => r()));
    t.teardown(() => void backend.close());
    const pf = spawn(tools.kubectl(), ['--kubeconfig', adminA, 'port-forward', 'pod/p1', ':80', '--cache-dir', path.join(dir, 'cache-pf')]);
    t.teardown(() => void pf.kill());
    let pfOut = '';
    pf.stdout.on('data', (d: Buffer) => (pfOut += d.toString()));
    pf.stderr.on('data', (d: Buffer) => (pfOut += d.toString()));
    const port = await waitFor('port-forward to listen', () => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pfOut)?.[1]);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    t.equal(await res.text(), 'pod backend via drover', 'port-forward reached the pod backend');
    pf.kill();
  });

  t.test('read-only user: get works, create is refused by Kubernetes RBAC, --as is refused by the server', async (t) => {
    const created = await admin(['user', 'create', 'alice', '--password-stdin'], 'alice-password');
    t.equal(created.exitCode, 0, String(created.stderr));
    t.equal((await admin(['role', 'bind', 'alice', '--cluster', A.id, '--role', 'read-only'])).exitCode, 0);
    const kc = await kubeconfigFor(A.id, 'alice');
    await waitFor('alice can list pods once RBAC propagated', async () => (await kubectl(kc, 'get', 'pods')).exitCode === 0);
    const create = await kubectl(kc, 'create', 'configmap', 'alice-cm');
    t.not(create.exitCode, 0);
    t.match(String(create.stderr), /forbidden/i, 'Kubernetes answered 403');
    t.match(String(create.stderr), 'drover:user:alice', 'as the impersonated drover user');
    for (const as of [['--as', 'admin'], ['--as', 'system:admin', '--as-group', 'system:masters']]) {
      const r = await kubectl(kc, ...as, 'create', 'configmap', 'alice-cm2');
      t.not(r.exitCode, 0, `${as.join(' ')} does not help`);
      t.match(String(r.stderr), /may not impersonate/, 'a message, not a silent drop (decision 0802)');
      t.notMatch(String(r.stderr), /created/);
    }
    const check = await kubectl(adminA, 'get', 'configmap', 'alice-cm2');
    t.not(check.exitCode, 0, 'nothing was created');
  });

  t.test('no role on cluster B: 404 from the server, nothing reaches B', async (t) => {
    const kc = await kubeconfigFor(B.id, 'alice');
    const before = kubeRequests(B.agent);
    const r = await kubectl(kc, 'get', 'pods');
    t.not(r.exitCode, 0);
    t.match(String(r.stderr), /could not find the requested resource|NotFound|404/);
    t.equal(kubeRequests(B.agent), before, "B's agent received no request");
    t.ok(kubeRequests(A.agent) > 0, 'the counter does see requests where they happen');
  });

  t.test('unbinding removes access within one propagation cycle', async (t) => {
    t.equal((await admin(['user', 'create', 'bob'])).exitCode, 0);
    await admin(['role', 'bind', 'bob', '--cluster', A.id, '--role', 'read-only']);
    await admin(['role', 'bind', 'bob', '--cluster', A.id, '--role', 'cluster-member']);
    const kc = await kubeconfigFor(A.id, 'bob');
    await waitFor('bob may create', async () => (await kubectl(kc, 'create', 'configmap', 'bob-1')).exitCode === 0);
    t.equal((await admin(['role', 'unbind', 'bob', '--cluster', A.id, '--role', 'cluster-member'])).exitCode, 0);
    await waitFor('bob may no longer create', async () => {
      const r = await kubectl(kc, 'create', 'configmap', `bob-${Date.now()}`);
      return r.exitCode !== 0 && /forbidden/i.test(String(r.stderr));
    }, 15_000);
    t.equal((await kubectl(kc, 'get', 'pods')).exitCode, 0, 'read-only remains');
    const list = JSON.parse(String((await admin(['role', 'list', '--json', '--user', 'bob'])).stdout)) as { role: string; propagation: string }[];
    t.same(list.map((b) => b.role), ['read-only']);
    t.equal(list[0]?.propagation, 'propagated');
  });

  t.test('a binding made while cluster B is offline applies after it reconnects', async (t) => {
    await B.agent.stop();
    await waitFor("the server to drop B's tunnel", async () => {
      const d = (await clusterGet(serverDir, B.id)) as { agents: { sessions: unknown[] }[] };
      return d.agents.every((ag) => ag.sessions.length === 0);
    });
    t.equal((await admin(['role', 'bind', 'alice', '--cluster', B.id, '--role', 'read-only'])).exitCode, 0);
    const kc = await kubeconfigFor(B.id, 'alice');
    const offline = await kubectl(kc, 'get', 'pods');
    t.not(offline.exitCode, 0, 'offline cluster: 503');
    const pending = JSON.parse(String((await admin(['role', 'list', '--json', '--cluster', B.id])).stdout)) as { propagation: string }[];
    t.equal(pending[0]?.propagation, 'pending');
    B.agent = startAgent(B.agentDir, ['--roles', 'cluster']);
    await waitFor('alice can read cluster B', async () => (await kubectl(kc, 'get', 'pods')).exitCode === 0, 60_000);
    t.pass('propagated after reconnect');
  });

  t.test('cluster get shows nodes and Warning events', async (t) => {
    const event = path.join(dir, 'event.yaml');
    writeFileSync(event, JSON.stringify({
      apiVersion: 'v1', kind: 'Event', type: 'Warning', reason: 'DroverProbe', message: 'a warning for cluster get',
      metadata: { name: 'drover-probe', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'p1', namespace: 'default' },
      lastTimestamp: new Date().toISOString(), count: 1,
    }));
    const made = await kubectl(adminA, 'create', '-f', event);
    t.equal(made.exitCode, 0, String(made.stderr));
    const detail = await waitFor('kubernetes facts with the warning', async () => {
      const d = await clusterGet(serverDir, A.id);
      const k = d.kubernetes as { nodes?: unknown[]; warnings?: { reason: string }[] } | null;
      return k?.nodes?.length && k.warnings?.some((w) => w.reason === 'DroverProbe') ? d : undefined;
    });
    const k = detail.kubernetes as { kubernetesVersion: string; nodes: { name: string; capacity: object; allocatable: object; conditions: unknown[] }[]; warnings: unknown[] };
    t.equal(k.nodes.length, 2);
    t.ok(k.nodes[0]?.capacity && k.nodes[0].allocatable && Array.isArray(k.nodes[0].conditions));
    t.ok(Array.isArray(k.warnings));
  });

  t.test('audit: rows for each call, verify passes, then detects a tampered row', async (t) => {
    const rows = JSON.parse(String((await admin(['audit', 'list', '--json'])).stdout)) as { seq: number; user: string; cluster: string | null; verb: string; path: string; status: number }[];
    t.ok(rows.some((r) => r.user === 'alice' && r.cluster === A.id && r.verb === 'create' && r.status === 403), 'alice refused create');
    t.ok(rows.some((r) => r.user === 'alice' && r.cluster === B.id && r.status === 404), 'alice 404 on B');
    t.ok(rows.some((r) => r.user === 'admin' && r.verb === 'watch'), 'the watch');
    t.ok(rows.some((r) => r.user === 'admin' && r.path === '/v1/rolebindings'), 'API calls too');
    const ok = await admin(['audit', 'verify']);
    t.equal(ok.exitCode, 0, String(ok.stderr));
    const victim = rows[Math.floor(rows.length / 2)]?.seq ?? 1;
    const db = new Database(path.join(serverDir, 'server.db'));
    db.pragma('busy_timeout = 5000');
    db.prepare('UPDATE audit SET status = 200 WHERE seq = ?').run(victim);
    db.close();
    const bad = await admin(['audit', 'verify']);
    t.equal(bad.exitCode, 1);
    t.match(String(bad.stderr), `row ${victim}`);
  });
});
