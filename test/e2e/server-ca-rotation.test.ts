// Issue 18 acceptance, server CA rotation: `drover server rotate-ca --overlap` with one agent
// connected throughout and one offline throughout (registered before, started only after the
// switch). The connected one receives the new trust bundle over its tunnel; after the switch the
// server serves a leaf of the new CA with the new CA cross-signed by the old one (decision 0952),
// so the offline agent, which still trusts only the old CA, reconnects too. Both Connected, same
// agent ids, no re-registration; a join token made before the rotation still registers, and one
// naming a CA the server never had is refused with a message naming the server's new CA hash.
import t from 'tap';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { agentStatus, clusterList, createToken, drover, startAgent, startServer, waitFor, type Proc, testDir } from './agent-helpers.ts';

/** Issuer CNs of the certificates the server presents (leaf first). */
async function servedChainIssuers(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const out: string[] = [];
      let c: tls.DetailedPeerCertificate | undefined = s.getPeerCertificate(true);
      for (let i = 0; c && i < 3 && Object.keys(c).length > 0; i++) {
        out.push(String(c.issuer.CN));
        if (c.issuerCertificate === c) break;
        c = c.issuerCertificate;
      }
      s.destroy();
      resolve(out);
    });
    s.on('error', reject);
  });
}

/** The issuer CN of the certificate the server presents now. */
async function servedIssuer(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const issuer = s.getPeerCertificate().issuer.CN;
      s.destroy();
      resolve(String(issuer));
    });
    s.on('error', reject);
  });
}

t.test('CA rotation: a connected and an offline agent both reconnect, no re-registration', async (t) => {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, { DROVER_AGENT_SETTINGS_SWEEP_MS: '300' });
  t.teardown(() => server.proc.stop());
  const oldToken = await createToken(serverDir, ['--labels', 'site=x', '--uses', '5']);
  const oldHash = /^D10([0-9a-f]{64})::/.exec(oldToken)?.[1];
  const reg = async (name: string, token = oldToken) =>
    drover(['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--data-dir', path.join(dir, name)]);
  t.equal((await reg('online')).exitCode, 0);
  t.equal((await reg('offline')).exitCode, 0);
  const before = { online: await agentStatus(path.join(dir, 'online')), offline: await agentStatus(path.join(dir, 'offline')) };
  const procs: Proc[] = [];
  t.teardown(() => Promise.all(procs.map((p) => p.stop())).then(() => undefined));
  const run = (name: string): Proc => {
    const p = startAgent(path.join(dir, name), ['--roles', 'cluster']);
    procs.push(p);
    return p;
  };
  const connected = (name: string) => waitFor(`${name} connected`, async () => {
    const s = await agentStatus(path.join(dir, name));
    return s.roles[0]?.state === 'connected' ? s : undefined;
  }, 60_000);
  let online = run('online');
  await connected('online');
  t.equal(await servedIssuer(server.port), 'drover-server-ca', 'the original CA serves before the rotation');

  const bad = await drover(['server', 'rotate-ca', '--overlap', 'soon', '--data-dir', serverDir]);
  t.equal(bad.exitCode, 2, 'a malformed --overlap is a usage error');

  const rotated = await drover(['server', 'rotate-ca', '--overlap', '4s', '--json', '--data-dir', serverDir]);
  t.equal(rotated.exitCode, 0, rotated.stderr);
  const newHash = (JSON.parse(rotated.stdout) as { rotation: { nextCaHash: string } }).rotation.nextCaHash;
  t.match(newHash, /^[0-9a-f]{64}$/);
  t.not(newHash, oldHash);
  // One rotation at a time: test/integration/server-ca-api.test.ts (deterministic clock).

  await waitFor('the connected agent to hold the new trust bundle', async () => ((await agentStatus(path.join(dir, 'online'))) as unknown as { caSha256: string }).caSha256 === newHash);
  t.pass('trust bundle pushed over the tunnel during the overlap');
  // The switch: the server's record (what admin commands on the host trust) names the new CA, and
  // the served chain leads to it (the first rotation keeps the old key signing leaves, decision 0952).
  await waitFor('the server to switch to the new CA', () => (JSON.parse(readFileSync(path.join(serverDir, 'server.json'), 'utf8')) as { caHash: string }).caHash === newHash);
  t.match(await servedChainIssuers(server.port), [/^drover-server-ca$/, /^drover-server-ca-\d+$/], 'leaf, then the old CA cross-signed by the new one');
  const list = await drover(['cluster', 'list', '--data-dir', serverDir]);
  t.equal(list.exitCode, 0, 'admin commands trusting only the new CA (tls/ca.crt) reach the server');

  // The connected agent reconnects with its new bundle; the offline one starts trusting only the old CA.
  await online.stop();
  online = run('online');
  const after1 = await connected('online');
  run('offline');
  const after2 = await connected('offline');
  t.equal(after1.agentId, before.online.agentId, 'same identity (no re-registration)');
  t.equal(after2.agentId, before.offline.agentId, 'same identity (no re-registration)');
  await waitFor('the offline agent to get the new bundle too', async () => ((await agentStatus(path.join(dir, 'offline'))) as unknown as { caSha256: string }).caSha256 === newHash);
  const clusters = await waitFor('both clusters Connected', async () => {
    const l = await clusterList(serverDir);
    return l.length === 2 && l.every((c) => c.state === 'Connected') ? l : undefined;
  });
  t.equal(clusters.length, 2, 'no new clusters');

  t.test('join tokens across the rotation', async (t) => {
    const late = await reg('late');
    t.equal(late.exitCode, 0, 'a token made before the rotation still registers');
    const fresh = await createToken(serverDir, ['--labels', 'site=y']);
    t.ok(fresh.startsWith(`D10${newHash}::`), 'new tokens carry the new CA hash (format unchanged)');
    const foreign = `D10${'0'.repeat(64)}::${oldToken.split('::')[1] ?? ''}`;
    const refused = await reg('foreign', foreign);
    t.equal(refused.exitCode, 5, 'a token for a CA this server never had: CA mismatch');
    t.match(refused.stderr, newHash, 'the message names the server\'s new CA hash');
  });
});
