// Issue 17, node plans and agent upgrades with replicas (decisions 1110–1112): two `drover server`
// replicas on one Debian PostgreSQL (test/pg/harness.ts), a real node agent (`agent run --roles
// node`, installed as a small script executable under upgrade-helpers.ts's stand-in for systemd)
// connected to replica B only. A plan applied through replica A — which holds the plan-scheduling
// lease, so A decides and B, holding the node's tunnel, delivers — runs on that node; its result is
// read through A. A release imported through A (its executable then in the database) is delivered
// by B, which never received the file, and the agent upgrades. Then kill -9 of A: the plan- and
// upgrade-scheduling leases move to B, and a second plan applied through B runs. The move time is
// printed for the note, not asserted.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startPostgres } from '../pg/harness.ts';
import { freePort } from '../ha/haproxy.ts';
import { createToken, drover, Proc, testDir, waitFor } from './agent-helpers.ts';
import { makeRelease, scriptExe, Supervisor, testKey } from './upgrade-helpers.ts';

const HEARTBEAT_MS = 500;
const SERVER_ENV = { DROVER_HA_HEARTBEAT_MS: String(HEARTBEAT_MS), DROVER_PLAN_SYNC_MS: '200', DROVER_UPGRADE_SYNC_MS: '200', DROVER_LOG_LEVEL: 'debug' };
const LEASES = ['plan-scheduling', 'upgrade-scheduling'];

interface Replica { name: string; dir: string; url: string; id: string; proc: Proc }
interface Status { checksum: string; nodes: { id: string; state: string; checksum: string | null; exitCode: number | null; message: string }[] }

t.test('HA: plans and upgrades through one replica reach a node agent connected to the other; scheduling moves on kill -9', async (t) => {
  const postgres = await startPostgres();
  t.teardown(() => postgres.stop());
  const datastore = await postgres.createDatabase('haplans');
  const db = new pg.Pool({ connectionString: datastore, max: 2 });
  // An idle pooled connection ends with an error when PostgreSQL stops in the teardown: not a failure.
  db.on('error', () => undefined);
  t.teardown(() => db.end());
  const dir = testDir(t);
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const key = testKey(dir);
  const env = { ...SERVER_ENV, DROVER_RELEASE_PUBLIC_KEY: key.publicFile };

  async function replica(name: string, copyFrom?: string): Promise<Replica> {
    const rdir = path.join(dir, name);
    fs.mkdirSync(rdir, { recursive: true, mode: 0o700 });
    if (copyFrom) {
      // docs/ha.md, decision 1023: replicas share the CA, the admin token and the secrets key.
      fs.cpSync(path.join(copyFrom, 'tls'), path.join(rdir, 'tls'), { recursive: true });
      for (const f of ['admin-token', 'secrets.key']) if (fs.existsSync(path.join(copyFrom, f))) fs.cpSync(path.join(copyFrom, f), path.join(rdir, f));
    }
    const [port, peer] = [await freePort(), await freePort()];
    const proc = new Proc(['server', '--data-dir', rdir, '--listen', `127.0.0.1:${port}`, '--datastore', datastore, '--advertise-address', `127.0.0.1:${peer}`], env);
    t.teardown(() => proc.stop('SIGKILL').then(() => undefined));
    const up = await waitFor(`replica ${name}`, () => {
      if (!proc.running) throw new Error(`replica ${name} exited: ${proc.output.slice(-2000)}`);
      return proc.logs().find((l) => l.msg === 'HA replica: peer listener up');
    }, 60_000);
    return { name, dir: rdir, url: `https://127.0.0.1:${port}`, id: String(up.replicaId), proc };
  }
  const holders = async (): Promise<Record<string, string>> => {
    const rows = (await db.query<{ name: string; holder: string }>('SELECT name, holder FROM ha_leases WHERE expires_at > $1', [Date.now()])).rows;
    return Object.fromEntries(rows.map((r) => [r.name, r.holder]));
  };

  const a = await replica('a');
  // A starts first: it takes both scheduling leases before B exists.
  await waitFor('A holds the scheduling leases', async () => {
    const h = await holders();
    return LEASES.every((l) => h[l] === a.id) ? h : undefined;
  });
  const b = await replica('b', a.dir);

  // The node agent is registered and connected through B only (its server URL is B's).
  const token = await createToken(a.dir, ['--labels', 'site=ha']);
  const agentDir = path.join(dir, 'agent');
  const reg = await drover(['agent', 'register', '--server', b.url, '--token', token, '--name', 'edge-ha', '--data-dir', agentDir]);
  if (reg.exitCode !== 0) throw new Error(`agent register through B: ${reg.stderr}`);
  const OLD = scriptExe('0.1.0 as installed');
  const exe = path.join(dir, 'bin', 'drover');
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  fs.writeFileSync(exe, OLD, { mode: 0o755 });
  const agent = new Supervisor(exe, agentDir, { DROVER_NODE_PLAN_SCAN_MS: '200', DROVER_LOG_LEVEL: 'info', DROVER_RELEASE_PUBLIC_KEY: key.publicFile, DROVER_UPGRADE_EXE: exe }, ['--roles', 'node']);
  t.teardown(() => agent.stop());
  await waitFor('the node tunnel on B', async () => (await db.query("SELECT 1 FROM ha_sessions WHERE role = 'node' AND replica_id = $1", [b.id])).rowCount === 1);

  const via = (r: Replica) => (args: string[]) => drover([...args, '--data-dir', r.dir], { DROVER_RELEASE_PUBLIC_KEY: key.publicFile });
  async function runPlan(r: Replica, name: string): Promise<Status> {
    const out = path.join(work, name);
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, `apiVersion: drover.dev/v1\nkind: Plan\nmetadata: {name: ${name}}\ninstructions:\n  - name: mark\n    command: /bin/sh\n    args: ["-c", "echo ${name} > ${out}"]\n    timeout: 30s\n`);
    const applied = await via(r)(['plan', 'apply', file, '--target', 'site=ha']);
    t.equal(applied.exitCode, 0, `plan ${name} applied through ${r.name}: ${applied.stderr}`);
    t.match(applied.stdout, /1 node targeted/, 'the node is targeted');
    const s = await waitFor(`plan ${name} Succeeded, read through ${r.name}`, async () => {
      const res = await via(r)(['plan', 'status', name, '--json']);
      const st = res.exitCode === 0 ? (JSON.parse(res.stdout) as Status) : undefined;
      return st?.nodes.length === 1 && st.nodes[0]?.state === 'Succeeded' && st.nodes[0].checksum === st.checksum ? st : undefined;
    }, 90_000);
    t.equal(fs.readFileSync(out, 'utf8'), `${name}\n`, `plan ${name} ran on the node`);
    return s;
  }

  await t.test('applied through A (the scheduler), delivered by B (the tunnel), read through A and B', async (t) => {
    const s = await runPlan(a, 'first');
    t.equal(s.nodes[0]?.id, (JSON.parse((await via(b)(['node', 'list', '--json'])).stdout) as { id: string }[])[0]?.id, 'the node B holds');
    const onB = JSON.parse((await via(b)(['plan', 'status', 'first', '--json'])).stdout) as Status;
    t.equal(onB.nodes[0]?.state, 'Succeeded', 'B reads the same result');
    // 'plan delivered' is logged at debug by the replica that put the plan on a node tunnel.
    const deliveredBy = (r: Replica) => r.proc.logs().some((l) => l.msg === 'plan delivered' && l.plan === 'first');
    t.ok(deliveredBy(b), 'B delivered it (it holds the node tunnel)');
    t.notOk(deliveredBy(a), 'A delivered nothing (no node tunnel there)');
    t.match(await holders(), { 'plan-scheduling': a.id, 'upgrade-scheduling': a.id }, 'A scheduled it');
  });

  await t.test('a release imported through A is delivered by B from the database: the agent on B upgrades', async (t) => {
    const NEW = scriptExe('0.2.0 ha');
    const imp = await via(a)(['release', 'import', makeRelease(path.join(dir, 'rel-020'), '0.2.0', NEW, key)]);
    t.equal(imp.exitCode, 0, imp.stderr);
    t.notOk(fs.existsSync(path.join(b.dir, 'releases/0.2.0/drover-linux-amd64')), 'B has no copy of the file yet');
    t.same((JSON.parse((await via(b)(['release', 'list', '--json'])).stdout) as { version: string }[]).map((r) => r.version), ['0.2.0'], 'B lists the release');
    const started = await via(a)(['upgrade', 'agents', '--version', '0.2.0', '--target', 'site=ha']);
    t.equal(started.exitCode, 0, started.stderr);
    const done = await waitFor('the upgrade Done, read through A', async () => {
      const r = await via(a)(['upgrade', 'status', '--json']);
      const st = r.exitCode === 0 ? (JSON.parse(r.stdout) as { state: string; agents: { state: string }[] }) : undefined;
      return st?.state === 'Done' ? st : undefined;
    }, 120_000);
    t.same(done.agents.map((x) => x.state), ['Succeeded']);
    t.match(await holders(), { 'upgrade-scheduling': a.id }, 'A scheduled it; only B could deliver it (the tunnel is there)');
    t.equal(fs.readFileSync(exe, 'utf8'), NEW, 'the new executable is in place on the device');
    t.equal(fs.readFileSync(path.join(b.dir, 'releases/0.2.0/drover-linux-amd64'), 'utf8'), NEW, 'B fetched the executable from the database');
    await waitFor('the upgraded node agent back on B', async () => (await db.query("SELECT 1 FROM ha_sessions WHERE role = 'node' AND replica_id = $1", [b.id])).rowCount === 1, 60_000);
  });

  await t.test('kill -9 of the scheduling replica: both leases move to B, the next plan runs', async (t) => {
    const killedAt = Date.now();
    a.proc.signal('SIGKILL');
    await a.proc.wait();
    const moved = await waitFor('the scheduling leases on B', async () => {
      const h = await holders();
      return LEASES.every((l) => h[l] === b.id) ? h : undefined;
    }, 60_000);
    t.comment(`scheduling leases moved ${((Date.now() - killedAt) / 1000).toFixed(1)} s after kill -9 (ttl ${3 * HEARTBEAT_MS} ms, heartbeat ${HEARTBEAT_MS} ms)`);
    t.match(moved, { 'plan-scheduling': b.id, 'upgrade-scheduling': b.id });
    await runPlan(b, 'second');
    t.ok(b.proc.logs().some((l) => l.msg === 'lease gained: this replica runs the singleton' && l.lease === 'plan-scheduling'), 'B logged taking plan scheduling');
  });
});
