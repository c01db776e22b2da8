// Restarts keep everything (issue 4): CA, admin token, tokens, clusters and agent credentials;
// files holding secrets are private. Also drives the real `drover server` process and the admin
// CLI through --data-dir, checking the exit-code contract (0, 2, 3, 4).
import t from 'tap';
import { spawn, execFile } from 'node:child_process';
import { statSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { api, connectTunnel, createToken, eventually, registerAgent, removeDir, startTestServer, tempDir } from './server-harness.ts';

const drover = resolve(import.meta.dirname, '../../bin/drover');
const mode = (p: string) => statSync(p).mode & 0o777;

t.test('restart: CA, admin token, tokens, clusters and credentials survive; secrets are 0600', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  const first = await startTestServer({ dataDir });
  const token = await createToken(first, { uses: 2 });
  const agent = await registerAgent(first, token.secret, { hostname: 'survivor' });
  const { caHash, adminToken } = first;
  await first.close();

  const second = await startTestServer({ dataDir });
  t.teardown(() => second.close());
  t.equal(second.caHash, caHash, 'same CA, so issued join tokens stay valid');
  t.equal(second.adminToken, adminToken);
  const tokens = (await api(second, 'GET', '/v1/tokens', { bearer: adminToken })).json as Array<{ id: string; uses: number }>;
  t.equal(tokens.find((x) => x.id === token.id)?.uses, 1);
  const clusters = (await api(second, 'GET', '/v1/clusters', { bearer: adminToken })).json as Array<{ id: string; name: string }>;
  t.ok(clusters.some((c) => c.id === agent.clusterId && c.name === 'survivor'));
  const tunnel = await connectTunnel(second, agent.credential, 'cluster');
  await tunnel.ready;
  t.pass('the agent credential from before the restart opens a tunnel');
  tunnel.ws.close();
  await tunnel.closed;
  t.equal((await registerAgent(second, token.secret)).clusterId.startsWith('c-'), true, 'the token has one use left');

  t.equal(mode(dataDir), 0o700, 'data dir 0700');
  t.equal(mode(join(dataDir, 'tls')), 0o700, 'tls dir 0700');
  for (const f of ['admin-token', 'tls/ca.key', 'tls/server.key', 'server.db', 'server.json']) t.equal(mode(join(dataDir, f)), 0o600, `${f} 0600`);
  t.equal(mode(join(dataDir, 'tls/ca.crt')), 0o644, 'the CA certificate is public');
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const env = { ...process.env };
    for (const k of ['DROVER_SERVER', 'DROVER_TOKEN', 'DROVER_CA_FILE', 'DROVER_SERVER_DATA_DIR']) delete env[k];
    execFile(drover, args, { env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

async function startProcess(dataDir: string) {
  const before = existsSync(join(dataDir, 'server.json')) ? readFileSync(join(dataDir, 'server.json'), 'utf8') : '';
  const child = spawn(drover, ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await eventually(() => {
    if (!existsSync(join(dataDir, 'server.json'))) return false;
    const now = readFileSync(join(dataDir, 'server.json'), 'utf8');
    return now !== before && (JSON.parse(now) as { pid: number }).pid > 0;
  }, 'server.json written', 400);
  return { child, exited };
}

t.test('drover server + admin CLI with --data-dir only, and the exit-code contract', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  let proc = await startProcess(dataDir);
  t.teardown(() => proc.child.kill('SIGKILL'));

  const created = await run(['token', 'create', '--data-dir', dataDir, '--labels', 'site=lab', '--uses', '5', '--ttl', '1h']);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /^D10[0-9a-f]{64}::[a-z0-9]{10}\.[A-Za-z0-9_-]+\n$/, 'prints only the token');

  const list = await run(['cluster', 'list', '--json', '--data-dir', dataDir]);
  t.equal(list.code, 0);
  t.same(JSON.parse(list.stdout), []);

  const tokens = await run(['token', 'list', '--json', '--data-dir', dataDir]);
  t.match(JSON.parse(tokens.stdout), [{ usesMax: 5, labels: { site: 'lab' }, state: 'active' }]);

  const rejected = await run(['token', 'list', '--data-dir', dataDir, '--token', 'not-the-admin-token']);
  t.equal(rejected.code, 4, 'token rejected → 4');
  t.match(rejected.stderr, /ADMIN_TOKEN_INVALID/);

  const usage = await run(['token', 'create', '--data-dir', dataDir, '--cluster', 'c-x', '--labels', 'a=b']);
  t.equal(usage.code, 2, 'usage error → 2');

  proc.child.kill('SIGTERM');
  t.equal(await proc.exited, 0, 'SIGTERM stops the server cleanly');
  const down = await run(['cluster', 'list', '--data-dir', dataDir]);
  t.equal(down.code, 3, 'server unreachable → 3');
  t.match(down.stderr, /cannot reach/);

  proc = await startProcess(dataDir);
  const again = await run(['token', 'list', '--json', '--data-dir', dataDir]);
  t.equal(again.code, 0);
  t.equal((JSON.parse(again.stdout) as unknown[]).length, 1, 'the token survived the restart');
  proc.child.kill('SIGTERM');
  await proc.exited;
});

t.test('shutdown: a tunnel whose peer never answers GOAWAY does not hold the server open', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  const server = await startTestServer({ dataDir });
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  await tunnel.ready;
  // The agent's side stops reading: it will never see or answer the close handshake.
  (tunnel.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  await server.close();
  t.equal(server.ctx.sessions.size, 0, 'closed without waiting for the silent peer');
  tunnel.ws.terminate();
});
