// Issue 17, the gaps after ha-haproxy.test.ts: two `drover server` replicas on Debian's PostgreSQL
// behind Debian's HAProxy and a real node agent (`drover agent run --roles node`) registered and
// connected through the load balancer.
// - `drover shell` through the replica that does not hold the node's tunnel: forwarded over the
//   peer link, exit code and output intact, the audit rows written once (by the replica asked).
// - LISTEN/NOTIFY: the replica holding the tunnel wrote its route, the other got the `routes` hint;
//   with the replicas' listening sessions terminated (and kept away) a reconnect of the agent is
//   still seen by the replica without its tunnel, by polling alone (no hint received meanwhile).
// - /readyz: when the replicas' heartbeats fail (their table renamed away) and during a PostgreSQL
//   outage both replicas answer 503 NOT_READY, /healthz stays 200, the node's tunnel stays open
//   (same session afterwards, though the other replica expired its rows meanwhile), and both are
//   ready again by themselves; the shell through the other replica works again.
// - Revoking the agent through the replica without its tunnel closes the tunnel on the other one.
import t from 'tap';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { startPostgres } from '../pg/harness.ts';
import { startHaproxy } from '../ha/haproxy.ts';
import { startReplicaProc, type ReplicaProc } from '../ha/replica-procs.ts';
import { agentStatus, childEnv, counterTotal, createToken, drover, DROVER, serverGet, startAgent, testDir, waitFor, type Proc } from './agent-helpers.ts';

const HEARTBEAT_MS = 500;
// A terminated hint listener stays away for the rest of the file: what is seen then is polling.
const ENV = { DROVER_HA_HEARTBEAT_MS: String(HEARTBEAT_MS), DROVER_HA_HINT_RECONNECT_MS: '600000' };

t.test('HA: drover shell, hints and readiness across replicas behind HAProxy', async (t) => {
  const postgres = await startPostgres();
  t.teardown(() => postgres.stop());
  const datastore = await postgres.createDatabase('ha_more');
  const dir = testDir(t);
  const r0 = await startReplicaProc(dir, 'r0', datastore, ENV);
  const r1 = await startReplicaProc(dir, 'r1', datastore, ENV, r0.dataDir);
  const replicas = [r0, r1];
  t.teardown(() => Promise.all(replicas.map((r) => r.proc.stop('SIGKILL'))).then(() => undefined));
  const lb = await startHaproxy(dir, replicas.map((r) => ({ name: r.name, port: r.port })));
  t.teardown(() => lb.stop());
  // Hints sent before a replica listens are lost by design (polling catches up): wait for both.
  for (const r of replicas) await waitFor(`${r.name} listening for hints`, () => r.proc.logs().some((l) => l.msg === 'hint listener: listening'));

  // Admin queries on a client of its own, opened again after the outage.
  let db = new pg.Client({ connectionString: datastore });
  await db.connect();
  t.teardown(() => db.end().catch(() => undefined));
  const nodeRoute = async () =>
    (await db.query<{ replica_id: string; session_id: string }>("SELECT replica_id, session_id FROM ha_sessions WHERE role = 'node'")).rows[0];

  const agentDir = path.join(dir, 'agent');
  const reg = await drover(['agent', 'register', '--server', lb.url, '--token', await createToken(r0.dataDir), '--name', 'edge-01', '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, `registered through the load balancer: ${reg.stderr}`);
  let agent: Proc = startAgent(agentDir, ['--roles', 'node']);
  t.teardown(() => agent.stop());
  const nodeConnected = async () => (await agentStatus(agentDir)).roles.find((r) => r.name === 'node')?.state === 'connected';
  await waitFor('the node role to connect', nodeConnected);
  const { nodeId, clusterId } = await agentStatus(agentDir);
  const first = await waitFor('the node tunnel routed', nodeRoute);
  const owner = replicas.find((r) => r.id === first.replica_id)!;
  const other = replicas.find((r) => r.id !== first.replica_id)!;
  t.ok(owner && other, `the node tunnel sits on ${owner.name}; ${other.name} forwards`);

  const shellVia = (r: ReplicaProc, script: string) =>
    execa(DROVER, ['shell', nodeId, '--data-dir', r.dataDir, '--', 'sh', '-c', script], { reject: false, env: childEnv({ DROVER_LOG_LEVEL: 'warn' }), extendEnv: false, stdin: 'ignore', timeout: 60_000 });
  const hints = async (r: ReplicaProc, event: string) => {
    const m = await serverGet(r, '/metrics');
    const line = m.body.split('\n').find((l) => l.startsWith(`drover_server_ha_hints_total{channel="routes",event="${event}"}`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };
  const agentState = async (r: ReplicaProc) => {
    const c = JSON.parse((await drover(['cluster', 'get', clusterId, '--json', '--data-dir', r.dataDir])).stdout) as { agents: Array<{ state: string }> };
    return c.agents[0]?.state;
  };

  await t.test('a NOTIFY hint: the route written by one replica wakes the other', async (t) => {
    const got = await waitFor(`the routes hint at ${other.name}`, async () => (await hints(other, 'received')) || undefined);
    t.ok(got >= 1, `${other.name} received ${got} routes hint(s)`);
    t.ok((await hints(owner, 'sent')) >= 1, `${owner.name} sent it`);
    t.equal(await agentState(other), 'Connected', `${other.name} shows the agent connected through ${owner.name}`);
  });

  await t.test('drover shell through the replica without the tunnel', async (t) => {
    const before = (await db.query("SELECT count(*)::int AS n FROM audit WHERE verb LIKE 'shell%'")).rows[0] as { n: number };
    const out = await shellVia(other, 'echo "hello-$((6*7))"; echo oops >&2; exit 3');
    t.equal(out.exitCode, 3, `the exit code came back through two replicas: ${String(out.stderr)}`);
    t.equal(String(out.stdout).trim(), 'hello-42');
    t.match(String(out.stderr), /oops/, 'stderr kept apart');
    // The shell-end row is written when the relay ends: wait for it, then count.
    const rows = await waitFor('the shell audit rows', async () => {
      const r = (await db.query<{ verb: string; status: number }>("SELECT verb, status FROM audit WHERE verb LIKE 'shell%' ORDER BY seq")).rows.slice(before.n);
      return r.some((x) => x.verb === 'shell-end') ? r : undefined;
    });
    t.same(rows.map((r) => `${r.verb} ${r.status}`), ['shell 101', 'shell-end 200'], 'audited once: by the replica that took the request, not again by the owner');
  });

  await t.test('with the hint listeners gone, polling alone carries a reconnect', async (t) => {
    // Both replicas' listening sessions: wherever the agent reconnects, the other one must see it.
    const killed = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'drover-hints %'");
    t.equal(killed.rowCount, 2, 'one listening session per replica, both terminated');
    for (const r of replicas) await waitFor(`${r.name}'s listener to notice`, () => r.proc.logs().some((l) => l.msg === 'hint listener connection lost (polling goes on)'));
    const received = await Promise.all(replicas.map((r) => hints(r, 'received')));
    await agent.stop();
    for (const r of replicas) await waitFor(`${r.name} to see the agent gone`, async () => (await agentState(r)) !== 'Connected');
    agent = startAgent(agentDir, ['--roles', 'node']);
    await waitFor('the node role to reconnect', nodeConnected);
    const moved = await waitFor('the new node route', nodeRoute);
    const watcher = replicas.find((r) => r.id !== moved.replica_id)!;
    await waitFor(`${watcher.name} to see it back`, async () => (await agentState(watcher)) === 'Connected');
    t.pass(`${watcher.name} saw the agent come back on another replica`);
    t.same(await Promise.all(replicas.map((r) => hints(r, 'received'))), received, 'without a single hint received meanwhile: the heartbeat poll did it');
  });

  await t.test('/readyz: not ready while heartbeats fail, ready again by itself, tunnels kept', async (t) => {
    const route = await waitFor('the node route', nodeRoute);
    const holder = replicas.find((r) => r.id === route.replica_id)!;
    const forwarder = replicas.find((r) => r.id !== route.replica_id)!;
    const ready = async (r: ReplicaProc) => serverGet(r, '/readyz');
    for (const r of replicas) t.equal((await ready(r)).status, 200, `${r.name} ready`);

    // The heartbeat's table goes away; the rest of the database answers (the store's ping passes).
    await db.query('ALTER TABLE ha_replicas RENAME TO ha_replicas_away');
    for (const r of replicas) {
      const down = await waitFor(`${r.name} not ready`, async () => {
        const x = await ready(r);
        return x.status === 503 ? x : undefined;
      });
      t.match(down.body, /NOT_READY.*heartbeat/, `${r.name}: 503 NOT_READY naming the heartbeat`);
    }
    // Long enough for each replica to count the other dead once the table is back.
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    await db.query('ALTER TABLE ha_replicas_away RENAME TO ha_replicas');
    for (const r of replicas) await waitFor(`${r.name} ready again`, async () => (await ready(r)).status === 200);
    t.pass('both ready again');
    const after = await waitFor('the node route back', nodeRoute);
    t.equal(after.session_id, route.session_id, 'the same tunnel: not closed, its expired route written again');
    t.ok(await nodeConnected(), 'the agent never noticed');

    // PostgreSQL itself goes away.
    await db.end();
    await postgres.halt('fast');
    for (const r of replicas) {
      const down = await waitFor(`${r.name} not ready (database down)`, async () => {
        const x = await ready(r);
        return x.status === 503 ? x : undefined;
      });
      t.match(down.body, /NOT_READY/, `${r.name}: 503 NOT_READY`);
      t.equal((await serverGet(r, '/healthz')).status, 200, `${r.name}: alive`);
    }
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    t.ok(await nodeConnected(), 'the node tunnel stays open during the outage');
    await postgres.start();
    for (const r of replicas) await waitFor(`${r.name} ready after the outage`, async () => (await ready(r)).status === 200, 60_000);
    t.pass('both ready again after PostgreSQL came back');
    db = new pg.Client({ connectionString: datastore });
    await db.connect();
    const back = await waitFor('the node route after the outage', nodeRoute);
    t.equal(back.session_id, route.session_id, 'still the same tunnel');
    const out = await waitFor('a shell through the other replica again', async () => {
      const x = await shellVia(forwarder, 'echo after-outage');
      return x.exitCode === 0 ? x : undefined;
    });
    t.equal(String(out.stdout).trim(), 'after-outage', `forwarded from ${forwarder.name} to ${holder.name}`);
  });

  await t.test('revoking the agent through the replica without its tunnel closes the tunnel', async (t) => {
    const route = await waitFor('the node route', nodeRoute);
    const forwarder = replicas.find((r) => r.id !== route.replica_id)!;
    const { agentId } = await agentStatus(agentDir);
    const out = await drover(['identity', 'revoke', agentId, '--data-dir', forwarder.dataDir]);
    t.equal(out.exitCode, 0, out.stderr);
    await waitFor('the tunnel closed at the replica holding it', async () => (await nodeRoute()) === undefined);
    await waitFor('the agent to see it', async () => !(await nodeConnected()));
    t.pass(`revoked through ${forwarder.name}, the tunnel on the other replica closed`);
  });
});
