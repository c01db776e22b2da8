// The admin CLI (`drover cluster …`, `drover identity …`, `drover token …`) as real processes
// against a server, reaching it with --server/--token/--ca-file or env mirrors (issue 4).
import t from 'tap';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { connectTunnel, createToken, registerAgent, removeDir, startTestServer } from './server-harness.ts';

const drover = resolve(import.meta.dirname, '../../bin/drover');

const server = await startTestServer();
t.teardown(async () => {
  await server.close();
  removeDir(server.dataDir);
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { ...process.env };
  for (const k of ['DROVER_SERVER', 'DROVER_TOKEN', 'DROVER_CA_FILE', 'DROVER_SERVER_DATA_DIR']) delete base[k];
  return new Promise((done) => {
    execFile(drover, args, { env: { ...base, ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const remote = () => ['--server', server.url, '--token', server.adminToken, '--ca-file', server.caFile];

t.test('cli: cluster list --json has the contract shape and shows a connected cluster with its facts', async (t) => {
  const agent = await registerAgent(server, (await createToken(server, { labels: { site: 'cli' } })).secret, { hostname: 'cli-edge' });
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  await tunnel.ready;
  tunnel.session.sendMessage('facts', { hostname: 'cli-edge', os: 'linux', arch: 'arm64', agentVersion: '0.1.0', kubernetesVersion: 'v1.30.1' });
  let row: Record<string, unknown> | undefined;
  for (let i = 0; i < 50 && row?.kubernetesVersion !== 'v1.30.1'; i++) {
    const r = await run(['cluster', 'list', '--json', ...remote()]);
    t.equal(r.code, 0, r.stderr);
    row = (JSON.parse(r.stdout) as Array<Record<string, unknown>>).find((c) => c.id === agent.clusterId);
  }
  t.match(row, { id: agent.clusterId, name: 'cli-edge', labels: { site: 'cli' }, state: 'Connected', kubernetesVersion: 'v1.30.1' });
  t.type(row?.lastSeen, 'string');

  const label = await run(['cluster', 'label', agent.clusterId, 'env=prod', 'site-', ...remote()]);
  t.equal(label.code, 0, label.stderr);
  t.equal(label.stdout.trim(), 'env=prod');
  const get = await run(['cluster', 'get', agent.clusterId, '--json'], { DROVER_SERVER: server.url, DROVER_TOKEN: server.adminToken, DROVER_CA_FILE: server.caFile });
  t.equal(get.code, 0, 'env mirrors work');
  t.match(JSON.parse(get.stdout), { id: agent.clusterId, labels: { env: 'prod' }, nodes: [{ name: 'cli-edge' }] });

  const table = await run(['cluster', 'list', '--data-dir', server.dataDir]);
  t.match(table.stdout, /ID\s+NAME\s+STATE/);
  t.match(table.stdout, new RegExp(`${agent.clusterId}\\s+cli-edge\\s+Connected`));

  const revoke = await run(['identity', 'revoke', agent.agentId, '--data-dir', server.dataDir]);
  t.equal(revoke.code, 0, revoke.stderr);
  t.equal((await tunnel.closed).code, 4501, 'revoking through the CLI disconnects the agent');
  const ids = await run(['identity', 'list', '--json', '--data-dir', server.dataDir]);
  t.match((JSON.parse(ids.stdout) as Array<Record<string, unknown>>).find((a) => a.id === agent.agentId), { revokedAt: String });
});

t.test('cli: errors map to exit codes and name the fault', async (t) => {
  const missing = await run(['cluster', 'get', 'c-nope', ...remote()]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /CLUSTER_NOT_FOUND/);
  const badLabel = await run(['cluster', 'label', 'c-x', 'novalue', ...remote()]);
  t.equal(badLabel.code, 2);
  const noToken = await run(['token', 'list', '--server', server.url]);
  t.equal(noToken.code, 2);
  t.match(noToken.stderr, /--token/);
  const badTtl = await run(['token', 'create', '--ttl', 'soon', ...remote()]);
  t.equal(badTtl.code, 2);
  const otherCa = await run(['token', 'list', '--server', server.url, '--token', server.adminToken]);
  t.equal(otherCa.code, 5, 'system CAs do not vouch for the server → CA mismatch');
  const unreachable = await run(['token', 'list', '--server', 'https://127.0.0.1:1', '--token', 'x']);
  t.equal(unreachable.code, 3);
  const postgres = await run(['server', '--data-dir', server.dataDir, '--listen', '127.0.0.1:0', '--datastore', 'postgres://u:secretpw@127.0.0.1:1/drover']);
  t.equal(postgres.code, 1, 'an unreachable PostgreSQL is a failure, not a usage error');
  t.match(postgres.stderr, /cannot open the PostgreSQL datastore postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/drover/);
  t.notMatch(postgres.stderr, /secretpw/, 'the password in the URL is not echoed');
  const badScheme = await run(['server', '--data-dir', server.dataDir, '--listen', '127.0.0.1:0', '--datastore', 'mysql://u:secretpw@db/drover']);
  t.equal(badScheme.code, 2);
  t.notMatch(badScheme.stderr, /secretpw/);
  const help = await run(['token', 'create', '--help']);
  t.match(help.stdout, /Examples?:/);
});
