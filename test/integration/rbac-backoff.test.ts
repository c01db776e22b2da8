// Issue 12 acceptance: an idle server with N connected cluster agents that refuse RBAC pushes does
// not keep retrying them on a fixed short period. A real in-process server (HTTPS, store, tunnel
// endpoint) and real tunnels over WebSockets; only the timers of the per-cluster work run on a
// ManualClock (ServerDeps.timers), so an hour passes in a loop and nothing asserts on wall time.
// Two kinds of refusing agents: ones that serve no stream targets at all (STREAM_REFUSED, like the
// benchmark's simulated agents) and ones whose `http:drover-rbac` answers 500 (a cluster whose
// apiserver refuses the apply).
import t from 'tap';
import { createStreamHttpServer, ManualClock } from '../../protocol/index.ts';
import { api, connectTunnel, createToken, eventually, registerAgent, removeDir, startTestServer, type TestTunnel } from './server-harness.ts';

const N = 6;
const MINUTE = 60_000;
const clock = new ManualClock(0);
const server = await startTestServer({ timers: clock });
const rbac = server.ctx.rbac;
const tunnels: TestTunnel[] = [];
t.teardown(async () => {
  for (const x of tunnels) x.ws.terminate();
  await server.close();
  removeDir(server.dataDir);
});

/** Moves the manual clock forward `ms` in 1 s steps, letting the pushes each step started finish. */
async function idleFor(ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 1000) {
    clock.advance(1000);
    await rbac.whenIdle();
  }
}

interface Agent {
  clusterId: string;
  credential: string;
  /** PUT /v1/rbac requests this agent received (only agents that serve the target). */
  puts: number[];
  status: number;
}

async function agents(kind: 'no-targets' | 'answers-500', n: number): Promise<Agent[]> {
  const out: Agent[] = [];
  for (let i = 0; i < n; i++) {
    const reg = await registerAgent(server, (await createToken(server)).secret, { roles: ['cluster'], hostname: `${kind}-${i}` });
    out.push({ clusterId: reg.clusterId, credential: reg.credential, puts: [], status: 500 });
  }
  return out;
}

async function connect(a: Agent, kind: 'no-targets' | 'answers-500'): Promise<TestTunnel> {
  const tunnel = await connectTunnel(server, a.credential, 'cluster');
  if (kind === 'answers-500') {
    const http = createStreamHttpServer({
      request(req, res) {
        req.resume();
        if (req.method !== 'PUT' || req.url !== '/v1/rbac') {
          // Facts are not what this test is about: not served, so never asked again.
          res.statusCode = 404;
          res.end();
          return;
        }
        a.puts.push(clock.now());
        res.statusCode = a.status;
        res.end(a.status === 200 ? '{"applied":0,"deleted":[]}' : '{"error":{"code":"RBAC_APPLY_FAILED","message":"apply refused"}}');
      },
    });
    tunnel.session.on('stream', (s) => http.serve(s));
  }
  await tunnel.ready;
  tunnels.push(tunnel);
  return tunnel;
}

const silent = await agents('no-targets', N);
const failing = await agents('answers-500', N);

t.test('connected agents that refuse pushes are not retried on a fixed short period', async (t) => {
  for (const a of silent) await connect(a, 'no-targets');
  for (const a of failing) await connect(a, 'answers-500');
  // The connect kicks run at once (no timer needed).
  await eventually(() => rbac.attempts >= 2 * N && failing.every((a) => a.puts.length === 1), 'one push each after connecting');
  await rbac.whenIdle();

  await idleFor(60 * MINUTE);
  // The former loop pushed every 2 s: 1,800 pushes per cluster in this hour.
  const perAgent = failing.map((a) => a.puts.length);
  t.ok(perAgent.every((n) => n <= 20), `at most 20 pushes per failing cluster in an hour (got ${perAgent.join(', ')})`);
  for (const a of failing) {
    const gaps = a.puts.slice(1).map((at, i) => at - (a.puts[i] as number));
    // (The clock moves in 1 s steps, so a gap may read up to 1 s short of its due time.)
    t.ok(gaps.every((g, i) => i === 0 || g >= (gaps[i - 1] as number) - 1000 || g >= 5 * MINUTE - 1000), `each retry waits at least as long as the one before, until the cap (${gaps.join(', ')})`);
    t.ok((gaps.at(-1) ?? 0) >= 5 * MINUTE - 1000, `retries settle at ≥ 5 min apart (last gap ${gaps.at(-1)} ms)`);
  }
  // Agents that serve no `http:drover-rbac` were asked once, then left alone.
  t.equal(rbac.attempts, N + failing.reduce((s, a) => s + a.puts.length, 0), 'no retries to agents that do not serve the target');
  t.equal(rbac.scheduled, N, 'only the failing clusters hold a scheduled retry');
});

t.test('a change or a reconnect asks again; a recovered cluster stops being retried', async (t) => {
  const before = rbac.attempts;
  // A binding on a silent cluster: one push (refused again), then nothing.
  const user = await api(server, 'POST', '/v1/users', { body: { name: 'ann' }, bearer: server.adminToken });
  t.equal(user.status, 201);
  const bound = await api(server, 'POST', '/v1/rolebindings', { body: { user: 'ann', clusterId: silent[0]?.clusterId, role: 'read-only' }, bearer: server.adminToken });
  t.equal(bound.status, 201);
  await eventually(() => rbac.attempts === before + 1, 'the binding pushed once');
  await rbac.whenIdle();

  // The failing clusters' apiservers recover: the next retry succeeds and nothing follows.
  for (const a of failing) a.status = 200;
  await idleFor(15 * MINUTE);
  t.equal(rbac.pushes, N, 'every recovered cluster propagated');
  t.equal(rbac.scheduled, 0, 'nothing left to retry');
  const settled = rbac.attempts;
  await idleFor(60 * MINUTE);
  t.equal(rbac.attempts, settled, 'an idle hour with every cluster settled or parked: no pushes at all');

  // A silent agent reconnects: one more try for it.
  const old = tunnels.shift();
  old?.ws.terminate();
  await connect(silent[0] as Agent, 'no-targets');
  await eventually(() => rbac.attempts === settled + 1, 'the reconnect pushed once');
  await rbac.whenIdle();
  await idleFor(30 * MINUTE);
  t.equal(rbac.attempts, settled + 1, 'and nothing after it');
});
