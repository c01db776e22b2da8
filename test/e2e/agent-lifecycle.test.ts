// Issue 4 acceptance, the main path with real processes on 127.0.0.1: start the server, create a
// token, register, run the agent; status and the server's cluster list agree; kill the server and
// the agent reports the outage from local state; restart it and everything comes back by itself.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import {
  agentStatus, allRoles, clusterGet, clusterList, createToken, drover, startAgent, startServer, waitFor,
  type ClusterJson, type ServerProc, testDir } from './agent-helpers.ts';

t.test('agent lifecycle: register, connect, survive a server restart, unregister', async (t) => {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  let server: ServerProc = await startServer(serverDir);
  t.teardown(() => server.proc.stop());

  const token = await createToken(serverDir, ['--labels', 'site=lab,tier=edge']);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', 'edge-lab', '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, `register exits 0 (${reg.stderr})`);
  t.equal(fs.statSync(agentDir).mode & 0o777, 0o700, 'data dir is 0700');
  t.equal(fs.statSync(path.join(agentDir, 'agent.db')).mode & 0o777, 0o600, 'database is 0600');
  t.notMatch(reg.stdout + reg.stderr, token.split('::')[1]!.split('.')[1]!, 'the token secret is never printed');

  const agent = startAgent(agentDir);
  t.teardown(() => agent.stop());

  await t.test('agent status shows every role connected', async (t) => {
    const s = await waitFor('all roles connected', async () => {
      const st = await agentStatus(agentDir);
      return allRoles(st, 'connected') ? st : undefined;
    });
    t.equal(s.server, server.url);
    t.same(s.roles.map((r) => r.name), ['cluster', 'node', 'fleet']);
    t.match(s, { bundles: [], outbox: 0, version: String });
    t.ok(s.roles.every((r) => r.lastError === null && r.since !== null));
  });

  let cluster: ClusterJson;
  await t.test('cluster list shows the cluster Connected with the agent facts', async (t) => {
    const status = await agentStatus(agentDir);
    cluster = await waitFor('cluster Connected', async () => (await clusterList(serverDir)).find((c) => c.id === status.clusterId && c.state === 'Connected'));
    t.match(cluster, { name: 'edge-lab', labels: { site: 'lab', tier: 'edge' } });
    t.ok(cluster.lastSeen, 'lastSeen is set');
    const detail = await waitFor('facts to arrive', async () => {
      const d = await clusterGet(serverDir, status.clusterId);
      return JSON.stringify(d).includes('"agentVersion"') ? d : undefined;
    });
    const text = JSON.stringify(detail);
    for (const fact of ['hostname', 'os', 'arch', 'agentVersion']) t.match(text, `"${fact}"`, `facts carry ${fact}`);
  });

  await t.test('killing the server flips status to disconnected with a last error and a next retry', async (t) => {
    await server.proc.stop('SIGKILL');
    const s = await waitFor('all roles disconnected', async () => {
      const st = await agentStatus(agentDir);
      return st.roles.every((r) => r.state !== 'connected' && r.lastError !== null) && st.roles.some((r) => r.nextRetryAt) ? st : undefined;
    });
    for (const r of s.roles) {
      t.ok(r.lastError, `${r.name} has a last error: ${r.lastError}`);
    }
    const withRetry = s.roles.find((r) => r.state === 'disconnected' && r.nextRetryAt);
    t.ok(withRetry, 'a disconnected role names its next retry');
    t.ok(Date.parse(withRetry!.nextRetryAt!) >= Date.parse(withRetry!.since!), 'next retry is not before the disconnect');
    t.ok(agent.running, 'the agent keeps running without the server');
  });

  await t.test('restarting the server: Stale while the agent is away, then Connected with a fresh lastSeen', async (t) => {
    agent.signal('SIGSTOP');
    const before = await clusterList(serverDir).catch(() => undefined);
    t.equal(before, undefined, 'admin commands fail while the server is down');
    server = await startServer(serverDir, server.port);
    const stale = await waitFor('Stale', async () => (await clusterList(serverDir)).find((c) => c.id === cluster.id));
    t.equal(stale.state, 'Stale', 'no live session after the restart: Stale, never Connected');
    const resumedAt = Date.now();
    agent.signal('SIGCONT');
    const back = await waitFor('Connected again', async () => (await clusterList(serverDir)).find((c) => c.id === cluster.id && c.state === 'Connected'), 60_000);
    t.ok(Date.parse(back.lastSeen!) >= resumedAt - 1000, `lastSeen ${back.lastSeen} is after the agent came back`);
    const s = await waitFor('agent connected again', async () => {
      const st = await agentStatus(agentDir);
      return allRoles(st, 'connected') ? st : undefined;
    });
    t.ok(s.roles.every((r) => r.lastError === null));
  });

  await t.test('status answers from local state while the server is down', async (t) => {
    await server.proc.stop('SIGKILL');
    const r = await drover(['agent', 'status', '--data-dir', agentDir]);
    t.equal(r.exitCode, 0);
    t.match(r.stdout, /server:\s+https:\/\/127\.0\.0\.1/);
    server = await startServer(serverDir, server.port);
  });

  await t.test('unregister tells the server, removes the identity, and the running agent stops', async (t) => {
    await waitFor('agent connected again', async () => allRoles(await agentStatus(agentDir), 'connected'), 60_000);
    const r = await drover(['agent', 'unregister', '--data-dir', agentDir]);
    t.equal(r.exitCode, 0, r.stderr);
    t.notMatch(r.stderr, /warning/, 'the server was told');
    const st = await drover(['agent', 'status', '--json', '--data-dir', agentDir]);
    t.equal(st.exitCode, 1, 'status after unregister: not registered');
    t.match(st.stderr, 'NOT_REGISTERED');
    const code = await agent.wait();
    t.not(code, 0, 'agent run exits once its identity is gone');
  });
});
