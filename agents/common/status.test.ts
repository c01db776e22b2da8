import t from 'tap';
import { buildStatus, formatStatus, NOT_RUNNING, pidAlive } from './status.ts';
import { sampleIdentity } from './test-fixtures.ts';
import type { RoleState } from './store.ts';

const row = (over: Partial<RoleState>): RoleState => ({
  role: 'cluster', state: 'connected', since: '2026-11-24T08:00:00.000Z', lastError: null, nextRetryAt: null,
  pid: 100, updatedAt: '2026-11-24T08:05:00.000Z', ...over,
});

t.test('status: has the contract shape (server, clusterId, nodeId, roles, bundles, outbox)', async (t) => {
  const s = buildStatus(sampleIdentity(), [row({})], '0.1.0', () => true);
  t.match(s, { server: 'https://127.0.0.1:9443', clusterId: 'c1', nodeId: 'n1', bundles: [], outbox: 0, version: '0.1.0' });
  t.same(s.roles.map((r) => r.name), ['cluster', 'node', 'fleet']);
  t.same(Object.keys(s.roles[0]!).slice(0, 5), ['name', 'state', 'since', 'lastError', 'nextRetryAt']);
  t.notMatch(JSON.stringify(s), 'a1.secret', 'the credential never appears in status');
});

t.test('status: a disconnected role reports since, last error and next retry', async (t) => {
  const s = buildStatus(sampleIdentity(), [row({ state: 'disconnected', lastError: 'SERVER_UNREACHABLE: x', nextRetryAt: '2026-11-24T08:06:00.000Z' })], '0', () => true);
  t.match(s.roles[0], { state: 'disconnected', lastError: 'SERVER_UNREACHABLE: x', nextRetryAt: '2026-11-24T08:06:00.000Z' });
});

t.test('status: a role whose process died is disconnected, never connected', async (t) => {
  const s = buildStatus(sampleIdentity(), [row({})], '0', () => false);
  t.match(s.roles[0], { state: 'disconnected', since: '2026-11-24T08:05:00.000Z', nextRetryAt: null });
  t.match(s.roles[0]!.lastError, NOT_RUNNING);
});

t.test('status: a role that never ran is disconnected with a reason', async (t) => {
  const s = buildStatus(sampleIdentity(), [], '0', () => true);
  t.ok(s.roles.every((r) => r.state === 'disconnected' && r.lastError));
});

t.test('status: human output lists every role', async (t) => {
  const text = formatStatus(buildStatus(sampleIdentity(), [row({})], '0', () => true));
  t.match(text, /cluster\s+connected/);
  t.match(text, /server:\s+https:\/\/127\.0\.0\.1:9443/);
});

t.test('status: pidAlive tells our own pid from a dead one', async (t) => {
  t.ok(pidAlive(process.pid));
  t.notOk(pidAlive(2 ** 22 + 12345));
});
