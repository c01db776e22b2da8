// Issue 18 acceptance, server URL change: `drover server set-url URL --keep-old DURATION` with one
// agent connected and one offline throughout. The connected agent receives the new URL over its
// tunnel and uses it from its next connection; the offline one starts with only the old URL, which
// still works during the overlap, and is moved on too. A new URL that does not answer costs nothing
// during the overlap: the agent falls back to its previous URL and says so in `agent status`.
// The server listens on 0.0.0.0, so 127.0.0.1 and 127.0.0.2 are two URLs of the same server.
import t from 'tap';
import path from 'node:path';
import { agentStatus, clusterList, createToken, drover, startAgent, startServer, waitFor, type Proc, testDir } from './agent-helpers.ts';

t.test('URL change: agents move to the new URL, fall back during the overlap, no re-registration', async (t) => {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, { DROVER_AGENT_SETTINGS_SWEEP_MS: '300' }, '0.0.0.0');
  t.teardown(() => server.proc.stop());
  const oldUrl = `https://127.0.0.1:${server.port}`;
  const newUrl = `https://127.0.0.2:${server.port}`;
  const token = await createToken(serverDir, ['--labels', 'site=x', '--uses', '2']);
  for (const name of ['online', 'offline']) {
    const r = await drover(['agent', 'register', '--server', oldUrl, '--token', token, '--name', name, '--data-dir', path.join(dir, name)]);
    t.equal(r.exitCode, 0, `${name} registered`);
  }
  const ids = { online: (await agentStatus(path.join(dir, 'online'))).agentId, offline: (await agentStatus(path.join(dir, 'offline'))).agentId };
  const procs = new Map<string, Proc>();
  t.teardown(() => Promise.all([...procs.values()].map((p) => p.stop())).then(() => undefined));
  const restart = async (name: string) => {
    await procs.get(name)?.stop();
    procs.set(name, startAgent(path.join(dir, name), ['--roles', 'cluster']));
  };
  const connectedVia = (name: string, url: string) =>
    waitFor(`${name} connected via ${url}`, async () => {
      const s = await agentStatus(path.join(dir, name));
      const role = s.roles[0] as { state: string; server?: string } | undefined;
      return role?.state === 'connected' && role.server === url ? s : undefined;
    }, 60_000);
  await restart('online');
  await connectedVia('online', oldUrl);

  const bad = await drover(['server', 'set-url', 'http://plain.example', '--data-dir', serverDir]);
  t.equal(bad.exitCode, 2, 'a non-https URL is a usage error');
  const set = await drover(['server', 'set-url', newUrl, '--keep-old', '1h', '--data-dir', serverDir]);
  t.equal(set.exitCode, 0, set.stderr);
  t.match(set.stdout, newUrl);

  await waitFor('the connected agent to hold the new URL', async () => (await agentStatus(path.join(dir, 'online'))).server === newUrl);
  await restart('online');
  await connectedVia('online', newUrl);
  t.pass('the connected agent uses the new URL from its next connection');

  await restart('offline');
  await connectedVia('offline', oldUrl);
  t.pass('the agent offline throughout reaches the server at the old URL during the overlap');
  await waitFor('the offline agent to get the new URL', async () => (await agentStatus(path.join(dir, 'offline'))).server === newUrl);
  await restart('offline');
  await connectedVia('offline', newUrl);

  t.test('a new URL that does not answer: fall back to the previous one during the overlap', async (t) => {
    const dead = 'https://127.0.0.3:1';
    t.equal((await drover(['server', 'set-url', dead, '--keep-old', '1h', '--data-dir', serverDir])).exitCode, 0);
    await waitFor('the agent to hold the dead URL', async () => (await agentStatus(path.join(dir, 'online'))).server === dead);
    await restart('online');
    const s = await connectedVia('online', newUrl);
    t.equal(s.server, dead, 'status names the URL it should use…');
    t.equal((s.roles[0] as { server?: string }).server, newUrl, '…and the one its tunnel uses (the fallback)');
  });

  const clusters = await clusterList(serverDir);
  t.equal(clusters.length, 2, 'no new clusters');
  t.ok(clusters.every((c) => c.state === 'Connected'), 'both Connected');
  t.equal((await agentStatus(path.join(dir, 'online'))).agentId, ids.online, 'same identity');
  t.equal((await agentStatus(path.join(dir, 'offline'))).agentId, ids.offline, 'same identity');
});
