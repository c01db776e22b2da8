// Connection history: reasons in words, one batch per flush, nothing lost when the store fails
// once, and pruning by age, per-cluster count and deleted clusters against a real SQLite store.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../store/sqlite-store.ts';
import type { ConnectionEventRecord, Store } from '../store/store.ts';
import { CONNECTION_HISTORY, ConnectionLog, connectReason, disconnectReason } from './connection-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-connlog-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const ev = (clusterId: string, at: number, kind: 'connect' | 'disconnect' = 'connect'): ConnectionEventRecord => ({
  clusterId, agentId: `a-${clusterId}`, role: 'cluster', sessionId: `s-${at}`, kind, at, reason: kind, remote: '127.0.0.1',
});

async function storeWithClusters(name: string, ids: string[]): Promise<SqliteStore> {
  const store = new SqliteStore(join(dir, name));
  for (const [i, id] of ids.entries()) {
    await store.createToken({ id: `tok${i}`.padEnd(10, '0'), secretHash: 'x', createdAt: 0, expiresAt: null, usesMax: 0, uses: 0, clusterId: null, labels: {}, revokedAt: null });
    const o = await store.enrol({
      tokenId: `tok${i}`.padEnd(10, '0'), now: 1,
      newCluster: { id, name: id, labels: {}, createdAt: 1, kubernetesVersion: null },
      node: { id: `n-${id}`, clusterId: id, name: id, createdAt: 1, facts: {}, removedAt: null },
      agent: { id: `a-${id}`, clusterId: id, nodeId: `n-${id}`, hostname: id, roles: ['cluster'], credentialHash: 'c', prevCredentialHash: null, credentialIssuedAt: 1, credentialExpiresAt: 2, createdAt: 1, revokedAt: null, removedAt: null, lastSeen: null, facts: {} },
    });
    if (!o.ok) throw new Error(`enrol ${id}: ${JSON.stringify(o)}`);
  }
  return store;
}

t.test('reasons: the server\'s own reason when it ended the session, else who closed it and why', async (t) => {
  const info = { id: 's1', agentId: 'a', clusterId: 'c', nodeId: 'n', role: 'fleet' as const, since: 0, remoteAddress: '10.0.0.1', protocol: 'drover.v1' };
  t.equal(connectReason(info, undefined), 'fleet agent connected (drover.v1)');
  t.equal(connectReason(info, 's0'), 'fleet agent connected (drover.v1); replaced session s0');
  const close = { code: 'PEER_TIMEOUT' as const, closeCode: 1011, message: 'no pong', remote: false, retryable: true };
  t.equal(disconnectReason(close, 'superseded'), 'superseded by a newer connection of the same agent');
  t.equal(disconnectReason(close, undefined), 'server closed the tunnel: PEER_TIMEOUT (no pong)');
  t.equal(disconnectReason({ ...close, code: 'GOING_AWAY', remote: true, message: '' }, undefined), 'agent closed the tunnel: GOING_AWAY');
});

t.test('flush writes what is pending in one batch, newest first when read; a failed write is kept for the next flush', async (t) => {
  const store = await storeWithClusters('a.db', ['c1', 'c2']);
  t.teardown(() => store.close());
  const log = new ConnectionLog();
  log.record(ev('c1', 10));
  log.record(ev('c1', 20, 'disconnect'));
  log.record(ev('c2', 15));
  let batches = 0;
  let fail = true;
  const flaky: Store = Object.create(store) as Store;
  flaky.recordConnectionEvents = async (events) => {
    batches++;
    if (fail) throw new Error('disk full');
    return store.recordConnectionEvents(events);
  };
  await t.rejects(log.flush(flaky, 1000), /disk full/);
  fail = false;
  t.equal(await log.flush(flaky, 1000), 3, 'kept and written on the next flush');
  t.equal(batches, 2, 'one write per flush');
  t.equal(await log.flush(flaky, 1000), 0, 'nothing pending: no write');
  t.equal(batches, 2);
  t.same((await store.connectionEvents('c1', 10)).map((e) => [e.kind, e.at]), [['disconnect', 20], ['connect', 10]]);
  t.same((await store.connectionEvents('c2', 10)).map((e) => e.remote), ['127.0.0.1']);
});

t.test('pending events are bounded while the store fails: the oldest go first', async (t) => {
  const log = new ConnectionLog();
  for (let i = 0; i < CONNECTION_HISTORY.maxPending + 5; i++) log.record(ev('c', i));
  t.equal(log.dropped, 5);
  const seen: number[] = [];
  const store = { recordConnectionEvents: async (e: readonly ConnectionEventRecord[]) => void seen.push(e[0]?.at ?? -1, e.length) } as unknown as Store;
  await log.flush(store, 0);
  t.same(seen, [5, CONNECTION_HISTORY.maxPending]);
});

t.test('pruning: older than the retention, and past the newest N of the clusters named', async (t) => {
  const store = await storeWithClusters('p.db', ['c1', 'c2']);
  t.teardown(() => store.close());
  await store.recordConnectionEvents([ev('c1', 1), ev('c1', 50), ev('c1', 60), ev('c1', 70), ev('c2', 55), ev('c2', 56), ev('c2', 57)]);
  const removed = await store.pruneConnectionEvents(10, 2, ['c1']);
  t.equal(removed, 2, 'c1@1 by age, c1@50 past the newest 2');
  t.same((await store.connectionEvents('c1', 10)).map((e) => e.at), [70, 60]);
  t.same((await store.connectionEvents('c2', 10)).map((e) => e.at), [57, 56, 55], 'c2 was not named: left for when it gets events');
  t.equal(await store.pruneConnectionEvents(10, 2, ['c2']), 1);
});

t.test('flush names the clusters written since the last prune', async (t) => {
  const named: string[][] = [];
  const store = { recordConnectionEvents: async () => {}, pruneConnectionEvents: async (_b: number, _n: number, c: readonly string[]) => { named.push([...c]); return 0; } } as unknown as Store;
  const log = new ConnectionLog();
  log.record(ev('c1', 1));
  log.record(ev('c2', 2));
  await log.flush(store, CONNECTION_HISTORY.pruneEveryMs);
  log.record(ev('c3', 3));
  await log.flush(store, CONNECTION_HISTORY.pruneEveryMs + 1);
  await log.flush(store, 2 * CONNECTION_HISTORY.pruneEveryMs);
  t.same(named, [['c1', 'c2'], ['c3']]);
});

t.test('flush prunes at most every pruneEveryMs', async (t) => {
  let prunes = 0;
  const store = { recordConnectionEvents: async () => {}, pruneConnectionEvents: async () => ++prunes } as unknown as Store;
  const log = new ConnectionLog();
  await log.flush(store, CONNECTION_HISTORY.pruneEveryMs);
  await log.flush(store, CONNECTION_HISTORY.pruneEveryMs + 1);
  t.equal(prunes, 1);
  await log.flush(store, 2 * CONNECTION_HISTORY.pruneEveryMs);
  t.equal(prunes, 2);
});
