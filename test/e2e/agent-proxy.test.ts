// Issue 4 acceptance: through a real HTTP CONNECT proxy (Debian's tinyproxy, run here as an
// ordinary process with its own config) with HTTPS_PROXY set, registration and the tunnel work
// and no direct connection is made. The server listens on 127.0.0.2 and tinyproxy dials out from
// 127.0.0.3, so the server can tell proxied connections (127.0.0.3) from direct ones (127.0.0.1).
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { agentStatus, allRoles, createToken, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

const PROXY_SOURCE = '127.0.0.3';
const tinyproxy = spawnSync('sh', ['-c', 'command -v tinyproxy']).stdout.toString().trim();

async function freePort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function tunnelRemotes(serverOutput: string): string[] {
  return serverOutput.split('\n').filter((l) => l.includes('"tunnel connected"')).map((l) => String((JSON.parse(l) as { remote?: unknown }).remote));
}

t.test('agent through an HTTP CONNECT proxy', async (t) => {
  // .ci/setup installs tinyproxy; a missing proxy is a broken setup, not a reason to skip acceptance.
  if (tinyproxy === '') throw new Error('tinyproxy not installed (run .ci/setup, or apt-get install -y tinyproxy)');
  const dir = testDir(t);
  const port = await freePort();
  const log = path.join(dir, 'tinyproxy.log');
  fs.writeFileSync(path.join(dir, 'tinyproxy.conf'), [
    `Port ${port}`, 'Listen 127.0.0.1', `Bind ${PROXY_SOURCE}`, 'Timeout 600', `LogFile "${log}"`, 'LogLevel Connect',
    'MaxClients 200', 'Allow 127.0.0.1', '',
  ].join('\n'));
  const proxy = spawn(tinyproxy, ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  t.teardown(() => proxy.kill('SIGTERM'));
  await waitFor('tinyproxy to listen', () => new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); }).on('error', () => resolve(false));
  }));
  const proxyEnv = { HTTPS_PROXY: `http://127.0.0.1:${port}` };
  const connects = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').split('\n').filter((l) => /Request .*CONNECT /.test(l));

  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, {}, '127.0.0.2');
  t.teardown(() => server.proc.stop());
  const agentDir = path.join(dir, 'agent');

  await t.test('registration goes through the proxy', async (t) => {
    const token = await createToken(serverDir);
    const r = await drover(['agent', 'register', '--server', server.url, '--token', token, '--data-dir', agentDir], proxyEnv);
    t.equal(r.exitCode, 0, r.stderr);
    const seen = connects();
    t.ok(seen.length >= 2, `tinyproxy logged CONNECTs for the CA fetch and the registration (${seen.length})`);
    t.ok(seen.every((l) => l.includes(`CONNECT 127.0.0.2:${server.port}`)), 'every CONNECT targets the server');
    t.match(server.proc.output, /"agent registered"/);
  });

  await t.test('every role tunnels through the proxy; the server sees only the proxy', async (t) => {
    const before = connects().length;
    const agent = startAgent(agentDir, [], proxyEnv);
    t.teardown(() => agent.stop());
    await waitFor('all roles connected via the proxy', async () => allRoles(await agentStatus(agentDir), 'connected'));
    t.ok(connects().length - before >= 3, 'one CONNECT per role tunnel');
    const remotes = tunnelRemotes(server.proc.output);
    t.equal(remotes.length, 3, 'three tunnels');
    t.same([...new Set(remotes)], [PROXY_SOURCE], 'no direct connection: every tunnel came from the proxy');
    t.ok(agent.logs().some((l) => l.msg === 'agent starting' && String(l.proxy).includes(`127.0.0.1:${port}`)), 'the agent logs the proxy it uses');
    await agent.stop();
  });

  await t.test('NO_PROXY exempts the server: the same agent connects directly', async (t) => {
    const before = connects().length;
    const agent = startAgent(agentDir, ['--roles', 'node'], { ...proxyEnv, NO_PROXY: 'localhost,127.0.0.2' });
    t.teardown(() => agent.stop());
    await waitFor('node role connected', async () => (await agentStatus(agentDir)).roles.find((r) => r.name === 'node' && r.state === 'connected'));
    t.equal(connects().length, before, 'no CONNECT through the proxy');
    const remotes = tunnelRemotes(server.proc.output);
    t.equal(remotes.at(-1), '127.0.0.1', 'the last tunnel came straight from the agent');
  });
});
