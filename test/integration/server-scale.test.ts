// 500 simulated agents in one process register and connect; the server restarts on the same port;
// clusters show Stale, every agent reconnects, and none is lost (issue 4 acceptance). Bounded by a
// generous tap timeout only — no wall-clock assertions.
import t from 'tap';
import { api, connectTunnel, createToken, registerAgent, removeDir, startTestServer, tempDir, type Registered, type TestTunnel } from './server-harness.ts';

const AGENTS = 500;
const CONCURRENCY = 50;

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CONCURRENCY) out.push(...(await Promise.all(items.slice(i, i + CONCURRENCY).map(fn))));
  return out;
}

t.test(`scale: ${AGENTS} agents register, connect, survive a server restart and all reconnect`, { timeout: 300_000 }, async (t) => {
  const dataDir = tempDir();
  t.teardown(() => removeDir(dataDir));
  let server = await startTestServer({ dataDir });
  const port = server.port;
  const token = await createToken(server, { uses: 0, labels: { fleet: 'scale' } });
  const agents: Registered[] = await inBatches(
    Array.from({ length: AGENTS }, (_, i) => i),
    (i) => registerAgent(server, token.secret, { hostname: `sim-${i}`, roles: ['cluster'] }),
  );
  t.equal(new Set(agents.map((a) => a.clusterId)).size, AGENTS, 'one cluster per device');

  const connectAll = async (): Promise<TestTunnel[]> => {
    const s = server;
    return inBatches(agents, async (a) => {
      const tunnel = await connectTunnel(s, a.credential, 'cluster');
      await tunnel.ready;
      return tunnel;
    });
  };
  let tunnels = await connectAll();
  const sessions = async () => (await api(server, 'GET', '/v1/sessions', { bearer: server.adminToken })).json as Array<{ agentId: string }>;
  t.equal((await sessions()).length, AGENTS, 'all connected');

  await server.close();
  const closes = await Promise.all(tunnels.map((x) => x.closed));
  t.ok(closes.every((c) => c.code === 1001), 'shutdown closes every tunnel with GOING_AWAY (1001)');

  server = await startTestServer({ dataDir, port });
  t.teardown(() => server.close());
  t.equal(server.port, port, 'same port after restart');
  const before = (await api(server, 'GET', '/v1/clusters', { bearer: server.adminToken })).json as Array<{ state: string }>;
  t.equal(before.length, AGENTS, 'no cluster lost');
  t.ok(before.every((c) => c.state === 'Stale'), 'after the restart, before reconnecting: Stale, never Connected');

  tunnels = await connectAll();
  const after = await sessions();
  t.equal(after.length, AGENTS);
  t.equal(new Set(after.map((s) => s.agentId)).size, AGENTS, 'exactly one session per agent');
  const clusters = (await api(server, 'GET', '/v1/clusters', { bearer: server.adminToken })).json as Array<{ state: string }>;
  t.ok(clusters.every((c) => c.state === 'Connected'), 'all Connected again');
  for (const x of tunnels) x.ws.close();
  await Promise.all(tunnels.map((x) => x.closed));
});
