// Long disconnection and credential lifetime with an injected clock (issue 4): credentials do not
// expire while an agent is away; a connecting agent past half its credential's lifetime is asked
// to rotate. Also: --tls-san re-issues the serving certificate from the same CA.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, connectTunnel, createToken, registerAgent, removeDir, startTestServer, tempDir, TestClock } from './server-harness.ts';
import { startServer } from '../../server-lite/server.ts';
import pino from 'pino';

const YEAR = 365 * 24 * 3600 * 1000;

t.test('credentials: an agent offline for a year still authenticates and is asked to rotate', async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const fresh = await connectTunnel(server, agent.credential, 'cluster');
  await fresh.ready;
  t.equal(fresh.rotateHint, false, 'a new credential needs no rotation');
  fresh.ws.close();
  await fresh.closed;

  clock.advance(YEAR);
  t.ok(Date.parse(agent.credentialExpiresAt) < clock.now(), 'past its nominal expiry');
  const back = await connectTunnel(server, agent.credential, 'cluster');
  await back.ready;
  t.equal(back.rotateHint, true, 'the 101 answer asks the agent to rotate');
  const rot = await api(server, 'POST', '/v1/agent/rotate', { bearer: agent.credential });
  t.equal(rot.status, 200);
  const next = rot.json as { credential: string; credentialExpiresAt: string };
  t.ok(Date.parse(next.credentialExpiresAt) > clock.now(), 'the new credential expires in the future');
  back.ws.close();
  await back.closed;
  const again = await connectTunnel(server, next.credential, 'cluster');
  await again.ready;
  t.equal(again.rotateHint, false);
  again.ws.close();
  await again.closed;
});

t.test('tls: adding a --tls-san re-issues the serving certificate from the same CA', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  const log = pino({ level: 'silent' });
  const a = await startServer({ dataDir, host: '127.0.0.1', port: 0, tlsSans: [] }, { log, defaultMetrics: false });
  const certA = readFileSync(join(dataDir, 'tls/server.crt'), 'utf8');
  await a.close();
  const b = await startServer({ dataDir, host: '127.0.0.1', port: 0, tlsSans: ['drover.example.com', '10.1.2.3'] }, { log, defaultMetrics: false });
  t.teardown(() => b.close());
  const certB = new X509Certificate(readFileSync(join(dataDir, 'tls/server.crt'), 'utf8'));
  t.equal(b.caHash, a.caHash, 'same CA: issued join tokens stay valid');
  t.not(certB.toString(), certA, 'a new serving certificate');
  t.ok(certB.checkHost('drover.example.com'));
  t.ok(certB.checkIP('10.1.2.3'));
  t.ok(certB.checkIssued(new X509Certificate(b.caPem)));
  const c = await startServer({ dataDir, host: '127.0.0.1', port: 0, tlsSans: ['drover.example.com'] }, { log, defaultMetrics: false });
  t.equal(readFileSync(join(dataDir, 'tls/server.crt'), 'utf8'), certB.toString(), 'no re-issue when every SAN is present');
  await c.close();
});
