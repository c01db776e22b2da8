// The server's delivery loop (FleetSync) against a real fleet agent endpoint over a real protocol
// session pair in memory (no sockets, no cluster: the agent's Kube is the in-memory fake, because
// what is tested is what travels, not what gets applied). Covers: whole set first, then a delta
// to an agent whose session has FLEET_DELTA, whole sets to one whose HELLO lacks it (even though
// its resume point still says `features: ['delta']`, which only servers before 1.1 read), an options-only change, and
// a change that lands after a cycle's options memo was filled (the memo must not go stale).
import t from 'tap';
import { testDir } from '../e2e/agent-helpers.ts';
import { join } from 'node:path';
import pino from 'pino';
import { ManualClock, sessionPair, bothReady, createStreamHttpServer, type TunnelStream } from '../../protocol/index.ts';
import { SqliteFleetStore as FleetStore } from '../../server-lite/fleet/sqlite-fleet-store.ts';
import { FleetManager } from '../../server-lite/fleet/fleet-manager.ts';
import { FleetSync, type FleetSession } from '../../server-lite/fleet/fleet-sync.ts';
import { FLEET_SYNC_LIMITS } from '../../server-lite/fleet/limits.ts';
import { normaliseManifests, type JsonObject } from '../../server-lite/fleet/manifest-set.ts';
import { createFleetAgent, type FleetAgent } from '../../agents/fleet/fleet-agent.ts';
import { fleetEndpoint } from '../../agents/fleet/fleet-endpoint.ts';
import { FakeKube } from '../fakes/fake-kube.ts';
import { memoryDb } from '../../agents/fleet/test-fixtures.ts';

const log = pino({ level: 'silent' });
const cms = (n: number, v: string): JsonObject[] => Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm${i}`, namespace: 'x' }, data: { v: i === 0 ? v : 'same'.repeat(200) } }));

/** One agent behind a session pair; `legacy`: its HELLO lacks FLEET_DELTA (an agent from before deltas, or one that masks them). */
async function agentSession(id: string, clusterId: string, legacy = false): Promise<{ session: FleetSession; agent: FleetAgent; puts: string[] }> {
  const pair = sessionPair(legacy ? { client: { maskCapabilities: ['FLEET_DELTA'] } } : {});
  await bothReady(pair.client, pair.server);
  const agent = createFleetAgent({ db: memoryDb(), kube: new FakeKube({ namespaces: ['x'] }), log });
  const endpoint = fleetEndpoint(agent, log);
  const puts: string[] = [];
  const http = createStreamHttpServer({
    request: (req, res) => {
      if (req.method === 'PUT') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => puts.push(JSON.parse(Buffer.concat(chunks).toString()).delta ? 'delta' : 'full'));
      }
      endpoint(req, res);
    },
  });
  pair.client.on('stream', (s: TunnelStream) => http.serve(s));
  return { session: { id, agentId: `a-${id}`, clusterId, openStream: (target, md) => pair.server.openStream(target, md), has: (cap) => pair.server.has(cap) }, agent, puts };
}

t.test('fleet sync: whole set, then deltas only where advertised; options-only changes; a change mid-cycle', async (t) => {
  const store = new FleetStore(join(testDir(t), 'fleet.db'));
  const clusters = [{ id: 'c1', name: 'one', labels: {} }, { id: 'c2', name: 'two', labels: {} }];
  const manager = new FleetManager(store, { clusters: async () => clusters, online: () => new Set(['c1', 'c2']), now: () => 0, log, tools: { helm: () => 'helm', kustomize: () => 'kustomize' } });
  const modern = await agentSession('s1', 'c1');
  const legacy = await agentSession('s2', 'c2', true);
  const sync = new FleetSync(manager, () => [modern.session, legacy.session], log);
  t.teardown(() => {
    sync.stop();
    return store.close();
  });
  const put = async (v: string, spec: Record<string, unknown> = {}) => {
    const set = normaliseManifests(cms(20, v), { bundle: 'web' });
    await store.putBundle('web', 'push', set.revision, spec, clusters.map((c) => ({ clusterId: c.id, set })), 0);
    await manager.plan();
    return set.revision;
  };
  const held = (a: FleetAgent) => a.resumePoint().find((d) => d.deploymentId === 'web');

  const r1 = await put('1');
  await sync.syncAll();
  t.equal(held(modern.agent)?.revision, r1);
  t.equal(held(legacy.agent)?.revision, r1);
  t.same([modern.puts, legacy.puts], [['full'], ['full']], 'nothing held yet: whole sets');

  const r2 = await put('2');
  await sync.syncAll();
  t.equal(held(modern.agent)?.revision, r2, 'the delta rebuilt the new revision on the agent');
  t.equal(held(legacy.agent)?.revision, r2);
  t.same([modern.puts.at(-1), legacy.puts.at(-1)], ['delta', 'full'], 'a delta only where both HELLOs list FLEET_DELTA; the other agent gets the whole manifest set');
  t.notOk(legacy.session.has?.('FLEET_DELTA'), 'the capability was negotiated off for the legacy agent');
  t.equal(sync.deltaDeliveries, 1);

  await put('2', { correctDrift: true });
  await sync.syncAll();
  t.same(held(modern.agent)?.options, { correctDrift: true }, 'an options-only change is delivered (same revision)');
  t.same(held(legacy.agent)?.options, { correctDrift: true });

  // A change lands after the options memo of a cycle was filled, and agents are then synced before
  // the next cycle starts (as workers of a long cycle are, with thousands of agents): they must
  // get the new options, not the memo's, and must not be marked as up to date with the old ones.
  await store.putBundle('web', 'push', r2, { correctDrift: true, keepResources: true }, clusters.map((c) => ({ clusterId: c.id, set: normaliseManifests(cms(20, '2'), { bundle: 'web' }) })), 0);
  await sync.sync(modern.session);
  await sync.sync(legacy.session);
  await sync.syncAll();
  t.same(held(modern.agent)?.options, { correctDrift: true, keepResources: true }, 'the change reaches the first agent');
  t.same(held(legacy.agent)?.options, { correctDrift: true, keepResources: true }, 'and the second');
});

t.test('fleet sync: an agent that cannot store a deployment now (5xx) is retried, not recorded as refusing it (issue 14)', async (t) => {
  const store = new FleetStore(join(testDir(t), 'fleet.db'));
  const clusters = [{ id: 'c1', name: 'one', labels: {} }];
  const manager = new FleetManager(store, { clusters: async () => clusters, online: () => new Set(['c1']), now: () => 0, log, tools: { helm: () => 'helm', kustomize: () => 'kustomize' } });
  // The agent's disk is full for its first PUT: the endpoint answers 503 SQLITE_FULL.
  const pair = sessionPair();
  await bothReady(pair.client, pair.server);
  const agent = createFleetAgent({ db: memoryDb(), kube: new FakeKube({ namespaces: ['x'] }), log });
  const endpoint = fleetEndpoint(agent, log);
  let full = true;
  const http = createStreamHttpServer({
    request: (req, res) => {
      if (full && req.method === 'PUT') {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'SQLITE_FULL', message: 'database or disk is full' }));
        full = false;
        return;
      }
      endpoint(req, res);
    },
  });
  pair.client.on('stream', (s: TunnelStream) => http.serve(s));
  const session: FleetSession = { id: 's1', agentId: 'a-c1', clusterId: 'c1', openStream: (target, md) => pair.server.openStream(target, md) };
  // The retry backoff runs on a manual clock: stepped, not waited for.
  const clock = new ManualClock(Date.parse('2026-12-05T12:00:00Z'));
  const sync = new FleetSync(manager, () => [session], log, clock);
  t.teardown(() => {
    sync.stop();
    return store.close();
  });
  const set = normaliseManifests(cms(3, '1'), { bundle: 'web' });
  await store.putBundle('web', 'push', set.revision, {}, [{ clusterId: 'c1', set }], 0);
  await manager.plan();
  await sync.syncAll();
  t.not((await manager.status('web'))?.clusters[0]?.state, 'ErrApplied', 'a 503 is not a refusal of the revision');
  await sync.syncAll();
  t.equal(agent.resumePoint().length, 0, 'not retried before its backoff');
  clock.advance(FLEET_SYNC_LIMITS.retryBackoff.baseMs);
  await sync.syncAll();
  t.equal(agent.resumePoint().find((d) => d.deploymentId === 'web')?.revision, set.revision, 'delivered once the agent can store it');
});
