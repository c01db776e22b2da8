// Issue 4 acceptance: long disconnection, with an injected clock. An agent offline for a year
// still authenticates (credentials never expire while the device is unreachable), rotates as soon
// as it is connected again, and an agent that stopped between rotating and saving re-enrols once
// with its rotated-out credential. Server and agent run in this process so both share the clock.
import t from 'tap';
import path from 'node:path';
import pino from 'pino';
import { startServer as startServerInProcess, type RunningServer } from '../../server-lite/server.ts';
import { runAgent } from '../../agents/common/run-agent.ts';
import { parseRunConfig } from '../../agents/common/config.ts';
import { AgentStore } from '../../agents/common/store.ts';
import { readStatus } from '../../cli/agent-status.ts';
import { rotate } from '../../agents/common/server-api.ts';
import { transportFor } from '../../agents/common/https-client.ts';
import { silentLogger } from '../../agents/common/logger.ts';
import { createToken, drover, waitFor, testDir } from './agent-helpers.ts';

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

t.test('long disconnection: a year offline, then connect, rotate, and recover an unsaved rotation', async (t) => {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  const fake = { now: Date.now() };
  const clock = { now: () => fake.now };
  const start = (port: number): Promise<RunningServer> =>
    startServerInProcess({ dataDir: serverDir, host: '127.0.0.1', port, tlsSans: [] }, { clock, log: pino({ level: 'silent' }), version: 'test' });

  let server = await startServerInProcess({ dataDir: serverDir, host: '127.0.0.1', port: 0, tlsSans: [] }, { clock, log: pino({ level: 'silent' }), version: 'test' });
  t.teardown(() => server.close());
  const token = await createToken(serverDir);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const stored = (): { credential: string; expiresAt: string | null } => {
    const s = AgentStore.open(agentDir, { create: false });
    try {
      const id = s.requireIdentity(agentDir);
      return { credential: id.credential, expiresAt: id.credentialExpiresAt };
    } finally {
      s.close();
    }
  };
  const original = stored();
  t.ok(original.expiresAt && Date.parse(original.expiresAt) < fake.now + YEAR_MS, 'the credential nominally expires well within a year');

  // A year passes with the device unreachable.
  await server.close();
  fake.now += YEAR_MS;
  server = await start(server.port);

  const runOnce = async (what: string, until: () => boolean): Promise<void> => {
    const controller = new AbortController();
    const cfg = parseRunConfig({ dataDir: agentDir, roles: 'cluster,node', backoffCap: '1s' }, 'test');
    const running = runAgent(cfg, { logger: silentLogger(), env: {}, signal: controller.signal, now: clock.now });
    try {
      await waitFor(what, () => {
        const st = readStatus(agentDir, 'test');
        return st.roles.filter((r) => r.name !== 'fleet').every((r) => r.state === 'connected') && until();
      }, 60_000);
    } finally {
      controller.abort();
      await running;
    }
  };

  await t.test('the year-old credential still authenticates, and is rotated once connected', async (t) => {
    await runOnce('connected and rotated', () => stored().credential !== original.credential);
    const now = stored();
    t.not(now.credential, original.credential, 'a new credential was stored');
    t.ok(now.expiresAt && Date.parse(now.expiresAt) > fake.now, 'its lifetime counts from the (injected) present');
  });

  await t.test('stopped between rotate and save: the rotated-out credential re-enrols once', async (t) => {
    const before = stored();
    const ca = (await import('node:fs')).readFileSync(path.join(serverDir, 'tls', 'ca.crt'), 'utf8');
    // The server rotates, but the agent "crashes" before saving the answer.
    const lost = await rotate(server.url, ca, transportFor(server.url, {}), before.credential);
    t.not(lost.credential, before.credential);
    await runOnce('re-enrolled and connected', () => {
      const c = stored().credential;
      return c !== before.credential && c !== lost.credential;
    });
    const after = stored();
    t.not(after.credential, before.credential, 'the agent holds a fresh credential');
    t.not(after.credential, lost.credential, 'not the one lost in the crash');
    await t.rejects(rotate(server.url, ca, transportFor(server.url, {}), before.credential), { code: /CREDENTIAL_(INVALID|SUPERSEDED)/ }, 'the rotated-out credential worked once only');
  });
});
