// Issue 18 acceptance, local cluster endpoint: a real kube-apiserver (test/k8s/harness.ts) joined
// by a real cluster agent; `drover cluster endpoint --enable` makes the agent serve an authenticating
// Kubernetes endpoint on the site; `drover kubeconfig` adds the CLUSTER-local context; the real
// kubectl uses it. A revoked token is refused after the next sync. Then the server is killed:
// a read-only user's `get` works through the local context, `delete` is refused by the cluster's
// RBAC, and a token that expires while the server is down is refused. When the server is back, the
// requests made offline are in its audit trail.
import t from 'tap';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { agentStatus, childEnv, createToken, drover, DROVER, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test('local endpoint: kubectl through CLUSTER-local with the server down', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  // Short sync period so "after the next sync" comes quickly (DROVER_ACCESS_SYNC_MS).
  const env = { DROVER_ACCESS_SYNC_MS: '500' };
  let server = await startServer(serverDir, 0, env);
  t.teardown(() => server.proc.stop());
  const agentDir = path.join(dir, 'agent');
  const token = await createToken(serverDir, ['--labels', 'site=edge']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', 'edge', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, 'agent registered');
  const agent = startAgent(agentDir, ['--roles', 'cluster']);
  t.teardown(() => agent.stop());
  const { clusterId: id } = await waitFor('agent connected', async () => {
    const s = await agentStatus(agentDir);
    return s.roles[0]?.state === 'connected' ? s : undefined;
  });

  const admin = (args: string[], input?: string) =>
    execa(DROVER, [...args, '--data-dir', serverDir], { reject: false, env: childEnv(), extendEnv: false, ...(input === undefined ? {} : { input }) });
  const kubectl = (kc: string, ...args: string[]) =>
    execa(tools.kubectl(), ['--kubeconfig', kc, '--cache-dir', path.join(dir, `cache-${path.basename(kc)}`), '--request-timeout', '20s', ...args], { reject: false, timeout: 60_000 });
  const kubeconfigFor = async (user: string, ttl?: string): Promise<string> => {
    const r = await admin(['kubeconfig', id, '--user', user, ...(ttl ? ['--ttl', ttl] : [])]);
    if (r.exitCode !== 0) throw new Error(String(r.stderr));
    const file = path.join(dir, `kc-${user}-${ttl ?? 'default'}.yaml`);
    writeFileSync(file, String(r.stdout));
    return file;
  };
  const tokenOf = (kc: string): string => {
    const doc = JSON.parse(readFileSync(kc, 'utf8')) as { users: { user: { token: string } }[] };
    return doc.users[0]?.user.token ?? '';
  };

  // Bad input first: a clear message and exit 2, nothing stored.
  const bad = await admin(['cluster', 'endpoint', id, '--enable', '--listen', 'nowhere']);
  t.equal(bad.exitCode, 2, 'a malformed --listen is a usage error');
  t.match(String(bad.stderr), /--listen nowhere: expected HOST:PORT/);

  const port = await freePort();
  const enabled = await admin(['cluster', 'endpoint', id, '--enable', '--listen', `127.0.0.1:${port}`, '--fqdn', 'edge-1.drover.test']);
  t.equal(enabled.exitCode, 0, String(enabled.stderr));
  t.match(String(enabled.stdout), `https://edge-1.drover.test:${port}`);
  await waitFor('the agent to listen', async () => {
    const r = await admin(['cluster', 'endpoint', id, '--json']);
    const v = JSON.parse(String(r.stdout)) as { sync: { listening: string | null } | null };
    return v.sync?.listening === `127.0.0.1:${port}`;
  });

  for (const u of ['alice', 'bob', 'carol']) {
    t.equal((await admin(['user', 'create', u])).exitCode, 0);
    t.equal((await admin(['role', 'bind', u, '--cluster', id, '--role', 'read-only'])).exitCode, 0);
  }
  const alice = await kubeconfigFor('alice');
  const bob = await kubeconfigFor('bob');
  const kcDoc = JSON.parse(readFileSync(alice, 'utf8')) as { contexts: { name: string }[]; clusters: { name: string; cluster: { server: string } }[] };
  t.same(kcDoc.contexts.map((c) => c.name), [`drover-${id}`, `${id}-local`], 'kubeconfig gains the CLUSTER-local context');
  // The certificate names edge-1.drover.test; this test reaches it on loopback under that name.
  const local = (kc: string, ...args: string[]) => kubectl(kc, '--context', `${id}-local`, '--tls-server-name', 'edge-1.drover.test', '--server', `https://127.0.0.1:${port}`, ...args);

  // Something for alice to try to delete, created as the admin through the server's proxy.
  const adminKc = path.join(dir, 'kc-admin.yaml');
  writeFileSync(adminKc, String((await admin(['kubeconfig', id])).stdout));
  await waitFor('admin can create a configmap through the proxy', async () => (await kubectl(adminKc, 'create', 'configmap', 'keep-me')).exitCode === 0 || (await kubectl(adminKc, 'get', 'configmap', 'keep-me')).exitCode === 0);

  await waitFor('alice reads through the local endpoint (tokens synced, RBAC propagated)', async () => (await local(alice, 'get', 'configmaps')).exitCode === 0, 60_000);
  t.equal((await local(bob, 'get', 'configmaps')).exitCode, 0, 'bob too');

  t.test('a revoked token is refused after the next sync', async (t) => {
    const bobToken = tokenOf(bob).split('.')[0] ?? '';
    const revoked = await admin(['user', 'token', 'revoke', bobToken, '--user', 'bob']);
    t.equal(revoked.exitCode, 0, String(revoked.stderr));
    const r = await waitFor('bob refused locally', async () => {
      const x = await local(bob, 'get', 'configmaps');
      return x.exitCode !== 0 ? x : undefined;
    });
    t.match(String(r.stderr), /Unauthorized|must be logged in|not known/i);
  });

  // A token that will expire while the server is down (synced with its expiry before that).
  const carol = await kubeconfigFor('carol', '12s');
  await waitFor('carol reads locally', async () => (await local(carol, 'get', 'configmaps')).exitCode === 0);

  t.test('server killed: get works, delete refused by RBAC, expired token refused', async (t) => {
    await server.proc.stop('SIGKILL');
    t.notOk(server.proc.running);
    const viaServer = await kubectl(alice, 'get', 'configmaps');
    t.not(viaServer.exitCode, 0, 'the server path is down');
    const get = await local(alice, 'get', 'configmap', 'keep-me', '-o', 'name');
    t.equal(get.exitCode, 0, String(get.stderr));
    t.equal(String(get.stdout).trim(), 'configmap/keep-me');
    const del = await local(alice, 'delete', 'configmap', 'keep-me');
    t.not(del.exitCode, 0);
    t.match(String(del.stderr), /forbidden/i, 'Kubernetes RBAC refused it');
    t.match(String(del.stderr), 'drover:user:alice', 'as the same identity the proxy uses');
    const still = await kubectl(cluster.kubeconfig, 'get', 'configmap', 'keep-me', '-n', 'default');
    t.equal(still.exitCode, 0, 'nothing was deleted');
    const expired = await waitFor('carol\'s token to expire offline', async () => {
      const x = await local(carol, 'get', 'configmaps');
      return x.exitCode !== 0 ? x : undefined;
    });
    t.match(String(expired.stderr), /Unauthorized|must be logged in|expired/i);
    const noToken = await execa(tools.kubectl(), ['--server', `https://127.0.0.1:${port}`, '--insecure-skip-tls-verify', '--token', 'drover-admin-nope', 'get', 'pods'], { reject: false });
    t.not(noToken.exitCode, 0, 'an unknown token is refused');
  });

  t.test('server still down: the admin token works locally, exec (an upgrade) too', async (t) => {
    const local = (...args: string[]) => kubectl(adminKc, '--context', `${id}-local`, '--tls-server-name', 'edge-1.drover.test', '--server', `https://127.0.0.1:${port}`, ...args);
    const run = await local('run', 'offline-pod', '--image=registry.example/p:1');
    t.equal(run.exitCode, 0, String(run.stderr));
    const ready = await local('wait', '--for=condition=Ready', 'pod/offline-pod', '--timeout=60s');
    t.equal(ready.exitCode, 0, String(ready.stderr));
    const exec = await local('exec', 'offline-pod', '--', 'echo', 'hi');
    t.equal(String(exec.stdout), 'hi', `exec through the local endpoint: ${String(exec.stderr)}`);
    const aliceExec = await kubectl(alice, '--context', `${id}-local`, '--tls-server-name', 'edge-1.drover.test', '--server', `https://127.0.0.1:${port}`, 'exec', 'offline-pod', '--', 'echo', 'entered');
    t.not(aliceExec.exitCode, 0, 'read-only: no exec');
    t.notMatch(String(aliceExec.stdout), 'entered');
  });

  t.test('server back: the requests made offline are in the audit trail', async (t) => {
    server = await startServer(serverDir, server.port, env);
    const rows = await waitFor('local audit rows drained', async () => {
      const r = await admin(['audit', 'list', '--json', '--limit', '1000']);
      const all = JSON.parse(String(r.stdout)) as { user: string; verb: string; status: number; path: string; cluster: string | null }[];
      const localRows = all.filter((x) => x.path.startsWith('local-endpoint:'));
      return localRows.some((x) => x.user === 'alice' && x.verb === 'delete') ? localRows : undefined;
    }, 60_000);
    const del = rows.find((x) => x.user === 'alice' && x.verb === 'delete');
    t.equal(del?.status, 403, 'the refused delete, with its status');
    t.equal(del?.cluster, id);
    t.ok(rows.some((x) => x.user === 'alice' && x.verb === 'get' && x.status === 200), 'the offline get');
    t.ok(rows.some((x) => x.status === 401 && x.user === 'anonymous'), 'the refused attempts (expired, unknown tokens), unauthenticated as on the proxy');
    await waitFor('the admin\'s offline exec in the audit trail', async () => {
      const r = await admin(['audit', 'list', '--json', '--limit', '1000']);
      const all = JSON.parse(String(r.stdout)) as { user: string; path: string; status: number }[];
      return all.some((x) => x.user === 'admin' && x.path.startsWith('local-endpoint:') && x.path.endsWith('/exec') && x.status === 101);
    });
    t.pass('upgrades are audited with the status the kube-apiserver answered');
    const verify = await admin(['audit', 'verify']);
    t.equal(verify.exitCode, 0, 'the chain still verifies');
  });
});
