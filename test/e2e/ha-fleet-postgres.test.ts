// Issue 17, fleet data on PostgreSQL (decisions 1100, 1101): two `drover server` replicas on one
// Debian PostgreSQL, a real fleet agent connected to replica B only, a real kube-apiserver. A bundle
// applied through replica A (which holds the fleet-scheduling lease and plans the rollout) is
// delivered by B to its agent and reaches Ready, seen through both replicas; one applied through B
// is assigned by A and delivered by B. Then kill -9 of A: the
// fleet-scheduling lease moves to B, and a new revision applied through B is scheduled and delivered
// there (nothing else could assign it: A is dead).
import t from 'tap';
import path from 'node:path';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import pg from 'pg';
import { startCluster, tools } from '../k8s/harness.ts';
import { startPostgres } from '../pg/harness.ts';
import { freePort } from '../ha/haproxy.ts';
import { agentStatus, createToken, drover, Proc, serverGet, startAgent, waitFor, testDir } from './agent-helpers.ts';
import { FLEET_AGENT_ENV, fleetServerEnv } from './fleet-helpers.ts';

const HEARTBEAT_MS = 500;

interface Replica {
  name: string;
  dir: string;
  url: string;
  id: string;
  proc: Proc;
}

interface BundleStatusJson {
  revision: string;
  /** Per cluster: `revision` is the cluster's manifest-set revision assigned, `appliedRevision` what its agent applied. */
  clusters: { id: string; state: string; revision?: string; appliedRevision?: string }[];
}

t.test('HA fleet: a bundle applied through one replica reaches Ready on a cluster connected to the other; the rollout singleton moves on kill -9', async (t) => {
  const [postgres, cluster] = await Promise.all([startPostgres(), startCluster({ nodes: 1 })]);
  t.teardown(() => Promise.all([postgres.stop(), cluster.stop()]).then(() => undefined));
  const datastore = await postgres.createDatabase('fleet');
  const db = new pg.Client({ connectionString: datastore });
  await db.connect();
  t.teardown(() => db.end());
  const dir = testDir(t);
  const lease = async () => (await db.query<{ holder: string }>("SELECT holder FROM ha_leases WHERE name = 'fleet-scheduling' AND expires_at > $1", [Date.now()])).rows[0]?.holder;

  async function replica(name: string, copyFrom?: string): Promise<Replica> {
    const rdir = path.join(dir, name);
    mkdirSync(rdir, { recursive: true, mode: 0o700 });
    if (copyFrom) {
      // docs/ha.md, decision 1023: replicas share the CA, the admin token and the secrets key.
      cpSync(path.join(copyFrom, 'tls'), path.join(rdir, 'tls'), { recursive: true });
      for (const f of ['admin-token', 'secrets.key']) if (existsSync(path.join(copyFrom, f))) cpSync(path.join(copyFrom, f), path.join(rdir, f));
    }
    const [port, peer] = [await freePort(), await freePort()];
    const proc = new Proc(['server', '--data-dir', rdir, '--listen', `127.0.0.1:${port}`, '--datastore', datastore, '--advertise-address', `127.0.0.1:${peer}`],
      fleetServerEnv({ DROVER_HA_HEARTBEAT_MS: String(HEARTBEAT_MS) }));
    const up = await waitFor(`replica ${name}`, () => {
      if (!proc.running) throw new Error(`replica ${name} exited: ${proc.output.slice(-2000)}`);
      return proc.logs().find((l) => l.msg === 'HA replica: peer listener up');
    });
    return { name, dir: rdir, url: `https://127.0.0.1:${port}`, id: String(up.replicaId), proc };
  }
  // A first, so that it takes the fleet-scheduling lease; B joins as a replica without it.
  const a = await replica('a');
  t.teardown(() => a.proc.stop('SIGKILL'));
  await waitFor('replica A to hold the fleet-scheduling lease', async () => (await lease()) === a.id);
  const b = await replica('b', a.dir);
  t.teardown(() => b.proc.stop('SIGKILL'));
  const admin = (r: Replica, args: string[]) => drover([...args, '--data-dir', r.dir]);
  const kubectl = (args: string[]) => execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false, timeout: 60_000 });

  // The fleet agent registers with and connects to replica B only (its URL, no load balancer).
  const agentDir = path.join(dir, 'agent');
  const token = await createToken(a.dir, ['--labels', 'site=edge']);
  const reg = await drover(['agent', 'register', '--server', b.url, '--token', token, '--name', 'edge-1', '--labels', 'site=edge', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const agent = startAgent(agentDir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV });
  t.teardown(() => agent.stop());
  const clusterId = (await waitFor('the fleet agent connected to B', async () => {
    const st = await agentStatus(agentDir);
    return st.roles.find((r) => r.name === 'fleet')?.state === 'connected' ? st : undefined;
  })).clusterId;
  const tunnelOn = async () => (await db.query<{ replica_id: string }>("SELECT replica_id FROM ha_sessions WHERE role = 'fleet' AND cluster_id = $1", [clusterId])).rows[0]?.replica_id;
  t.equal(await waitFor('the fleet tunnel route in the database', tunnelOn), b.id, 'the fleet tunnel sits on replica B');

  const bundleDir = path.join(dir, 'bundle');
  mkdirSync(bundleDir);
  const write = (v: string) => writeFileSync(path.join(bundleDir, 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ha-web, namespace: default}\ndata: {v: "${v}"}\n`);
  const status = async (r: Replica): Promise<BundleStatusJson | undefined> => {
    const s = await admin(r, ['bundle', 'status', 'web', '--json']);
    return s.exitCode === 0 ? (JSON.parse(s.stdout) as BundleStatusJson) : undefined;
  };
  /** The bundle at `revision`, its cluster Ready with a manifest set it applied, other than `before`'s. */
  const readyAt = (r: Replica, revision: string, before?: string) => waitFor(`bundle web Ready at ${revision.slice(0, 12)} seen through ${r.name}`, async () => {
    const s = await status(r);
    const c = s?.clusters.find((x) => x.id === clusterId);
    return s?.revision === revision && c?.state === 'Ready' && c.revision !== undefined && c.appliedRevision === c.revision && c.revision !== before ? c.revision : undefined;
  }, 120_000);
  let firstSet: string | undefined;

  await t.test('a bundle applied through A (the scheduler) is delivered by B and Ready', async (t) => {
    write('1');
    const applied = await admin(a, ['bundle', 'apply', bundleDir, '--name', 'web', '--target', 'site=edge', '--json']);
    t.equal(applied.exitCode, 0, applied.stderr);
    const revision = (JSON.parse(applied.stdout) as { revision?: string }[])[0]?.revision ?? '';
    t.match(revision, /^[0-9a-f]{64}$/);
    firstSet = await readyAt(a, revision).catch((err: Error) => {
      throw new Error(`${err.message}\nA: ${a.proc.output.slice(-2500)}\nB: ${b.proc.output.slice(-2500)}\nagent: ${agent.output.slice(-2500)}`);
    });
    t.pass('Ready, seen through A (statuses stored by B, read from PostgreSQL)');
    t.ok(await readyAt(b, revision), 'and through B');
    t.equal(String((await kubectl(['get', 'configmap', 'ha-web', '-o', 'jsonpath={.data.v}'])).stdout), '1', 'the object is on the cluster');
    t.ok(b.proc.logs().some((l) => l.msg === 'deployment delivered' && l.bundle === 'web'), 'B delivered it');
    t.notOk(a.proc.logs().some((l) => l.msg === 'deployment delivered'), 'A delivered nothing (no fleet tunnel there)');
    t.notOk(b.proc.logs().some((l) => l.msg === 'lease gained: this replica runs the singleton' && l.lease === 'fleet-scheduling'), 'B never scheduled: A holds the lease');
    // The other way round: applied through B (not the scheduler) — A sees the shared generation
    // move, assigns it, B delivers it.
    const other = path.join(dir, 'other');
    mkdirSync(other);
    writeFileSync(path.join(other, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ha-other, namespace: default}\ndata: {v: "b"}\n');
    const viaB = await admin(b, ['bundle', 'apply', other, '--name', 'other', '--target', 'site=edge']);
    t.equal(viaB.exitCode, 0, viaB.stderr);
    await waitFor('bundle other Ready, seen through A', async () => {
      const s = await admin(a, ['bundle', 'status', 'other', '--json']);
      return s.exitCode === 0 && (JSON.parse(s.stdout) as BundleStatusJson).clusters.some((c) => c.id === clusterId && c.state === 'Ready') ? true : undefined;
    }, 120_000);
    t.equal(String((await kubectl(['get', 'configmap', 'ha-other', '-o', 'jsonpath={.data.v}'])).stdout), 'b', 'a bundle applied through the non-scheduling replica is assigned by the scheduler and delivered');
    // The wake-up hint (LISTEN/NOTIFY, decision 1120): B announced the stored bundle, A heard it.
    const fleetHints = async (r: Replica, event: string) => {
      const m = await serverGet({ dataDir: r.dir, url: r.url }, '/metrics');
      const line = m.body.split('\n').find((l) => l.startsWith(`drover_server_ha_hints_total{channel="fleet",event="${event}"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    t.ok(await fleetHints(b, 'sent') >= 1, 'B sent a fleet hint for the bundle stored through it');
    t.ok(await waitFor('the fleet hint at A', async () => (await fleetHints(a, 'received')) || undefined) >= 1, 'A received it');
    const groups = await admin(b, ['clustergroup', 'create', 'edge', '--selector', 'site=edge']);
    t.equal(groups.exitCode, 0, groups.stderr);
    t.match((await admin(a, ['clustergroup', 'list', '--json'])).stdout, /"edge"/, 'a cluster group made through B is listed by A');
  });

  await t.test('kill -9 of the scheduler: the lease moves to B, which then schedules a new revision', async (t) => {
    a.proc.signal('SIGKILL');
    const killedAt = performance.now();
    await waitFor('the fleet-scheduling lease on B', async () => (await lease()) === b.id, 60_000);
    t.comment(`fleet-scheduling lease moved ${((performance.now() - killedAt) / 1000).toFixed(1)} s after kill -9 (ttl ${3 * HEARTBEAT_MS} ms, heartbeat ${HEARTBEAT_MS} ms)`);
    t.pass('B holds the fleet-scheduling lease');
    write('2');
    const applied = await admin(b, ['bundle', 'apply', bundleDir, '--name', 'web', '--target', 'site=edge', '--json']);
    t.equal(applied.exitCode, 0, applied.stderr);
    const revision = (JSON.parse(applied.stdout) as { revision?: string }[])[0]?.revision ?? '';
    t.ok(await readyAt(b, revision, firstSet).catch((err: Error) => {
      throw new Error(`${err.message}\nB: ${b.proc.output.slice(-3000)}\nagent: ${agent.output.slice(-2500)}`);
    }), 'the new revision is assigned (by B, the only replica left) and Ready');
    await waitFor('the new object on the cluster', async () => String((await kubectl(['get', 'configmap', 'ha-web', '-o', 'jsonpath={.data.v}'])).stdout) === '2', 60_000);
    t.pass('the cluster runs revision 2');
  });
});
