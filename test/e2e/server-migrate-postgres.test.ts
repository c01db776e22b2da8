// Issue 17: `drover server migrate --from DIR --to postgres://…` on a populated server (clusters
// registered by real agents, users, role bindings, join and API tokens, the audit chain), with
// Debian's PostgreSQL: refused while the server runs, copied and verified once it is stopped,
// refused into a database that is no longer empty; the server then runs on PostgreSQL with the
// same data dir, its clusters, users and audit chain intact, and a migrated agent connects with
// its old credential; a file backup of its data dir is refused (the store is in PostgreSQL). The
// fleet's rows (fleet.db: a bundle with its manifest set and history, a cluster group) move too.
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { agentStatus, clusterList, createToken, drover, startAgent, startServer, waitFor, type ServerProc, testDir } from './agent-helpers.ts';
import { startPostgres } from '../pg/harness.ts';

t.test('server migrate: a populated SQLite server moves to PostgreSQL, verified', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const url = await pg.createDatabase('migrated');
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  let server: ServerProc = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const admin = (...args: string[]) => drover([...args, '--data-dir', serverDir]);

  const agentDirs: string[] = [];
  for (const name of ['site-a', 'site-b']) {
    const agentDir = path.join(dir, name);
    const reg = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(serverDir, ['--labels', `site=${name}`]), '--name', name, '--data-dir', agentDir]);
    t.equal(reg.exitCode, 0, reg.stderr);
    agentDirs.push(agentDir);
  }
  const clusterId = (await agentStatus(agentDirs[0] ?? '')).clusterId;
  t.equal((await admin('user', 'create', 'alice')).exitCode, 0);
  t.equal((await admin('role', 'bind', 'alice', '--cluster', clusterId, '--role', 'read-only')).exitCode, 0);
  const apiToken = await admin('user', 'token', 'create', 'alice', '--ttl', '7d');
  t.equal(apiToken.exitCode, 0, apiToken.stderr);
  await createToken(serverDir, ['--uses', '3']);
  writeFileSync(path.join(dir, 'token.txt'), 'chart-token-value-1');
  const secret = await admin('secret', 'create', 'charts', '--type', 'token', '--token-file', path.join(dir, 'token.txt'));
  t.equal(secret.exitCode, 0, secret.stderr);
  const before = await clusterList(serverDir);
  t.equal(before.length, 2);
  const bundleDir = path.join(dir, 'bundle');
  mkdirSync(bundleDir);
  writeFileSync(path.join(bundleDir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: shop}\ndata: {v: "1"}\n');
  const applied = await admin('bundle', 'apply', bundleDir, '--name', 'web', '--target', 'site=site-a');
  t.equal(applied.exitCode, 0, applied.stderr);
  t.equal((await admin('clustergroup', 'create', 'edge', '--selector', 'site=site-b')).exitCode, 0);
  const bundlesBefore = JSON.parse((await admin('bundle', 'list', '--json')).stdout) as { name: string; revision: string }[];
  t.equal(bundlesBefore.length, 1);

  const running = await drover(['server', 'migrate', '--from', serverDir, '--to', url]);
  t.equal(running.exitCode, 1, 'refused while the server runs');
  t.match(running.stderr, /SOURCE_RUNNING/);

  await server.proc.stop();
  const migrated = await drover(['server', 'migrate', '--from', serverDir, '--to', url]);
  t.equal(migrated.exitCode, 0, migrated.stderr);
  const counts = new Map(migrated.stdout.trim().split('\n').filter((l) => l.includes('\t')).map((l) => {
    const [table, source, target] = l.split('\t');
    return [table, { source: Number(source), target: Number(target) }] as const;
  }));
  t.match(Object.fromEntries(counts), { clusters: { source: 2, target: 2 }, agents: { source: 2, target: 2 }, users: { source: 1, target: 1 }, role_bindings: { source: 1, target: 1 }, user_tokens: { source: 1, target: 1 }, tokens: { source: 3, target: 3 } });
  t.match(Object.fromEntries(counts), { source_secrets: { source: 1, target: 1 } }, 'the sealed source secrets move too');
  t.match(Object.fromEntries(counts), { fleet_bundles: { source: 1, target: 1 }, fleet_targets: { source: 1, target: 1 }, fleet_groups: { source: 1, target: 1 }, fleet_pushes: { source: 1, target: 1 }, fleet_bundle_history: { source: 1, target: 1 } }, 'the fleet rows move too');
  const blobs = counts.get('fleet_blobs');
  t.ok(blobs && blobs.source > 0 && blobs.source === blobs.target, 'with their blobs');
  const audit = counts.get('audit');
  t.ok(audit && audit.source > 0 && audit.source === audit.target, 'audit rows copied');
  t.match(migrated.stdout, /audit chain verified: \d+ rows, head [0-9a-f]{64}/);
  t.notMatch(migrated.stdout + migrated.stderr, pg.password, 'the password is never printed');

  const again = await drover(['server', 'migrate', '--from', serverDir, '--to', url]);
  t.equal(again.exitCode, 1, 'a non-empty target is refused');
  t.match(again.stderr, /TARGET_NOT_EMPTY: .*already holds Drover data \(.*clusters: 2/);
  const usage = await drover(['server', 'migrate', '--from', serverDir]);
  t.equal(usage.exitCode, 2);

  // The same port: the agents registered with this URL.
  server = await startServer(serverDir, server.port, { DROVER_DATASTORE: url });
  const after = await clusterList(serverDir);
  t.same(after.map((c) => [c.id, c.name, c.labels]), before.map((c) => [c.id, c.name, c.labels]), 'the same clusters, from PostgreSQL');
  const users = await admin('user', 'list', '--json');
  t.match(users.stdout, /"alice"/);
  const marker = readFileSync(path.join(serverDir, 'datastore.json'), 'utf8');
  t.match(marker, /"kind": "postgres"/, 'the data dir records that its store is in PostgreSQL');
  t.notMatch(marker, pg.password);
  const backup = await drover(['server', 'backup', '--to', path.join(dir, 'b.bak'), '--data-dir', serverDir], { DROVER_BACKUP_PASSPHRASE: 'a-long-enough-passphrase-1' });
  t.equal(backup.exitCode, 1, 'a file backup of a PostgreSQL server is refused, not silently stale');
  t.match(backup.stderr, /BACKUP_POSTGRES: .*pg_dump/);
  t.notMatch(backup.stderr, pg.password);
  const secrets = await admin('secret', 'list', '--json');
  t.match(secrets.stdout, /"charts"/, 'the source secret is served from PostgreSQL');
  t.notMatch(secrets.stdout, /cannot be opened/, 'and opens with the data dir\'s secrets.key');
  const bundlesAfter = JSON.parse((await admin('bundle', 'list', '--json')).stdout) as { name: string; revision: string }[];
  t.same(bundlesAfter.map((b) => [b.name, b.revision]), bundlesBefore.map((b) => [b.name, b.revision]), 'the bundle, from PostgreSQL');
  const history = await admin('bundle', 'history', 'web', '--json');
  t.match(history.stdout, bundlesBefore[0]?.revision ?? 'none', 'with its history');
  t.match((await admin('clustergroup', 'list', '--json')).stdout, /"edge"/, 'and the cluster group');
  const verify = await admin('audit', 'verify');
  t.equal(verify.exitCode, 0, `the chain verifies on PostgreSQL (${verify.stdout}${verify.stderr})`);

  const agent = startAgent(agentDirs[0] ?? '', ['--roles', 'node']);
  t.teardown(() => agent.stop());
  await waitFor('the migrated agent to connect with its old credential', async () => (await agentStatus(agentDirs[0] ?? '')).roles.find((r) => r.name === 'node')?.state === 'connected', 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\nagent: ${agent.output.slice(-3000)}\nserver: ${server.proc.output.slice(-3000)}`);
  });
  const connected = await waitFor('its cluster Connected', async () => (await clusterList(serverDir)).find((c) => c.id === clusterId && c.state === 'Connected'));
  t.ok(connected);
});
