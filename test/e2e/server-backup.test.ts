// Issue 24 acceptance, backup and restore: a populated server (a fleet agent on a real cluster, a
// bundle Ready, a user with a role, the audit chain) is backed up while it runs; the server is lost;
// while it is gone the agent records what happens on its cluster; a wrong passphrase and a damaged
// file are refused with nothing written; the backup restored into a new data dir, served on the
// same address, takes the agent back without re-registration, the bundle is Ready, what the agent
// recorded meanwhile arrives, and the audit chain verifies across the restore. Scheduled backups
// keep exactly N.
import t from 'tap';
import path from 'node:path';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { agentStatus, drover, Proc, startServer, waitFor, testDir } from './agent-helpers.ts';
import { agentDirIn, fleetServerEnv, joinFleetAgent } from './fleet-helpers.ts';

const PASS = 'a long backup passphrase';

t.test('server backup: restore onto a new data dir; the agents come back with their identities', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const oldDir = path.join(dir, 'server-old');
  let server = await startServer(oldDir, 0, fleetServerEnv());
  t.teardown(() => server.proc.stop());
  const env = { DROVER_BACKUP_PASSPHRASE: PASS };
  const cli = (args: string[], extra: Record<string, string> = env) => drover(args, extra);
  const agent = await joinFleetAgent(server, { dir: agentDirIn(dir, 'site'), name: 'site', labels: 'env=edge', kubeconfig: cluster.kubeconfig });
  t.teardown(() => agent.agent.stop());
  const kubectl = (...args: string[]) => execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false });

  const bundleDir = path.join(dir, 'bundle');
  mkdirSync(bundleDir);
  writeFileSync(path.join(bundleDir, 'fleet.yaml'), 'defaultNamespace: kept\ncorrectDrift: {enabled: true}\n');
  writeFileSync(path.join(bundleDir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept}\ndata: {v: "1"}\n');
  t.equal((await cli(['bundle', 'apply', bundleDir, '--name', 'kept', '--data-dir', oldDir])).exitCode, 0);
  const ready = (dataDir: string) => async () => {
    const r = await cli(['bundle', 'status', 'kept', '--json', '--data-dir', dataDir]);
    const s = r.exitCode === 0 ? (JSON.parse(r.stdout) as { clusters: { state: string }[] }) : undefined;
    return s?.clusters.length === 1 && s.clusters[0]?.state === 'Ready' ? s : undefined;
  };
  await waitFor('the bundle Ready', ready(oldDir), 60_000);
  t.equal((await cli(['user', 'create', 'olga', '--data-dir', oldDir])).exitCode, 0);
  t.equal((await cli(['role', 'bind', 'olga', '--cluster', agent.id, '--role', 'read-only', '--data-dir', oldDir])).exitCode, 0);

  const bak = path.join(dir, 'drover.bak');
  const taken = await cli(['server', 'backup', '--to', bak, '--data-dir', oldDir]);
  t.equal(taken.exitCode, 0, `backup while the server runs: ${taken.stderr}`);
  t.notOk(readFileSync(bak).includes(Buffer.from('BEGIN')), 'the keys are not readable in the file');
  t.equal((await cli(['server', 'backup', 'verify', bak])).exitCode, 0);

  // The machine is lost. Meanwhile at the site the ConfigMap is deleted; the agent restores it and
  // keeps the statuses in its outbox.
  await server.proc.stop();
  t.equal((await kubectl('-n', 'kept', 'delete', 'configmap', 'kept')).exitCode, 0);
  await waitFor('the agent restores it offline', async () => (await kubectl('-n', 'kept', 'get', 'configmap', 'kept')).exitCode === 0, 60_000);

  const newDir = path.join(dir, 'server-new');
  const wrong = await cli(['server', 'restore', '--from', bak, '--data-dir', newDir], { DROVER_BACKUP_PASSPHRASE: 'not the passphrase' });
  t.equal(wrong.exitCode, 1);
  t.match(wrong.stderr, /wrong passphrase, or the file was changed or damaged/);
  t.notOk(existsSync(newDir), 'nothing written');
  const damaged = path.join(dir, 'damaged.bak');
  const bytes = readFileSync(bak);
  const mid = Math.floor(bytes.length / 2);
  bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
  writeFileSync(damaged, bytes);
  t.equal((await cli(['server', 'restore', '--from', damaged, '--data-dir', newDir])).exitCode, 1, 'a damaged backup is refused');
  t.notOk(existsSync(newDir));
  const noPass = await cli(['server', 'restore', '--from', bak, '--data-dir', newDir], {});
  t.equal(noPass.exitCode, 2, 'no passphrase: a usage error');
  t.equal((await cli(['server', 'restore', '--from', bak, '--data-dir', oldDir])).exitCode, 1, 'never over an existing data dir');

  const restored = await cli(['server', 'restore', '--from', bak, '--data-dir', newDir]);
  t.equal(restored.exitCode, 0, restored.stderr);
  server = await startServer(newDir, server.port, fleetServerEnv());
  const before = await agentStatus(agent.dir);
  await waitFor('the agent reconnects to the restored server by itself', async () => (await agentStatus(agent.dir)).roles.find((r) => r.name === 'fleet')?.state === 'connected', 90_000);
  t.equal((await agentStatus(agent.dir)).clusterId, before.clusterId, 'same identity, no re-registration');
  await waitFor('the bundle Ready on the restored server', ready(newDir), 60_000);
  const events = await waitFor('what the agent recorded while the server was gone', async () => {
    const r = await cli(['bundle', 'events', 'kept', '--json', '--data-dir', newDir]);
    const e = r.exitCode === 0 ? (JSON.parse(r.stdout) as { state: string; message: string }[]) : [];
    return e.some((x) => x.state === 'Modified') ? e : undefined;
  }, 60_000);
  t.ok(events.some((e) => /missing/.test(e.message)), 'the deletion it saw offline is there');
  const roles = JSON.parse((await cli(['role', 'list', '--json', '--data-dir', newDir])).stdout) as { user: string }[];
  t.ok(roles.some((r) => r.user === 'olga'), 'users and role bindings came back');
  const verify = await cli(['audit', 'verify', '--data-dir', newDir]);
  t.equal(verify.exitCode, 0, `the audit chain verifies across the restore: ${verify.stderr}`);
  await server.proc.stop();

  // Scheduled backups keep exactly N.
  const backups = path.join(dir, 'scheduled');
  const scheduled = new Proc(['server', '--data-dir', newDir, '--listen', `127.0.0.1:${server.port}`, '--backup-every', '1s', '--backup-keep', '2', '--backup-dir', backups], { ...fleetServerEnv(), ...env });
  t.teardown(() => scheduled.stop());
  await waitFor('three scheduled backups written', () => scheduled.logs().filter((l) => l.msg === 'scheduled backup written').length >= 3, 60_000);
  await scheduled.stop();
  const files = readdirSync(backups).filter((f) => f.endsWith('.bak'));
  t.equal(files.length, 2, `exactly --backup-keep files: ${files.join(', ')}`);
  for (const f of files) t.equal((await cli(['server', 'backup', 'verify', path.join(backups, f)])).exitCode, 0, `${f} verifies`);
});
