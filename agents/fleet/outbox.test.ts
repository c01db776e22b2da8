import t from 'tap';
import fc from 'fast-check';
import { createFleetStore } from './store.ts';
import { memoryDb, status } from './test-fixtures.ts';
import type { DeploymentState } from './types.ts';

const at = new Date(0);

t.test('outbox: statuses drain in sequence order and leave only when acknowledged', async (t) => {
  const { outbox } = createFleetStore(memoryDb());
  const s1 = outbox.enqueue(status('a', 'WaitApplied'), at)!;
  const s2 = outbox.enqueue(status('b', 'WaitApplied'), at)!;
  const s3 = outbox.enqueue(status('a', 'Ready'), at)!;
  t.ok(s1 < s2 && s2 < s3, 'sequence numbers increase');
  t.same(outbox.peek().map((r) => [r.seq, r.deploymentId, r.status.state]), [[s1, 'a', 'WaitApplied'], [s2, 'b', 'WaitApplied'], [s3, 'a', 'Ready']]);
  t.same(outbox.peek(2).map((r) => r.seq), [s1, s2], 'a drain batch takes the oldest');
  t.equal(outbox.ack(s2), 2, 'ack removes everything up to the acknowledged sequence');
  t.same(outbox.peek().map((r) => r.seq), [s3]);
  t.equal(outbox.ack(s2), 0, 'a repeated ack is harmless');
});

t.test('outbox: the same status twice in a row is queued once; a change is queued', async (t) => {
  const { outbox } = createFleetStore(memoryDb());
  t.not(outbox.enqueue(status('a', 'Ready', '3 ready'), at), undefined);
  t.equal(outbox.enqueue(status('a', 'Ready', '3 ready'), at), undefined, 'duplicate skipped');
  outbox.ack(Number.MAX_SAFE_INTEGER);
  t.equal(outbox.enqueue(status('a', 'Ready', '3 ready'), at), undefined, 'still the same after it was acknowledged');
  t.not(outbox.enqueue(status('a', 'Modified', 'x'), at), undefined, 'a change is queued');
  t.not(outbox.enqueue(status('a', 'Ready', '3 ready'), at), undefined, 'and the way back too');
});

t.test('outbox: sequence numbers are never reused, even after every row was acknowledged and the store reopened', async (t) => {
  const db = memoryDb();
  const first = createFleetStore(db).outbox;
  const s1 = first.enqueue(status('a', 'Ready'), at)!;
  first.ack(s1);
  const s2 = createFleetStore(db).outbox.enqueue(status('a', 'NotReady'), at)!;
  t.ok(s2 > s1, `${s2} > ${s1}`);
});

t.test('outbox: over its bound it drops superseded statuses oldest first, never the latest of a deployment', async (t) => {
  const { outbox } = createFleetStore(memoryDb(), { outboxMaxRows: 3 });
  outbox.enqueue(status('a', 'WaitApplied'), at);
  outbox.enqueue(status('b', 'WaitApplied'), at);
  outbox.enqueue(status('a', 'NotReady'), at);
  outbox.enqueue(status('a', 'Ready'), at);
  t.same(outbox.peek().map((r) => `${r.deploymentId}:${r.status.state}`), ['b:WaitApplied', 'a:NotReady', 'a:Ready']);
  t.equal(outbox.coalesced(), 1);
  outbox.enqueue(status('c', 'Ready'), at);
  outbox.enqueue(status('d', 'Ready'), at);
  t.same(outbox.peek().map((r) => `${r.deploymentId}:${r.status.state}`), ['b:WaitApplied', 'a:Ready', 'c:Ready', 'd:Ready'], 'only latest rows left: the bound yields rather than lose one');
});

t.test('outbox: property — any sequence of statuses and acks keeps order, and the latest status of every deployment reaches the server', async (t) => {
  const states: DeploymentState[] = ['Ready', 'NotReady', 'Modified', 'WaitApplied'];
  const op = fc.oneof(
    fc.record({ kind: fc.constant('status' as const), id: fc.constantFrom('a', 'b', 'c', 'd'), state: fc.constantFrom(...states) }),
    fc.record({ kind: fc.constant('drain' as const), n: fc.integer({ min: 1, max: 4 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 6 }), (ops, max) => {
    const { outbox } = createFleetStore(memoryDb(), { outboxMaxRows: max });
    const serverSeen = new Map<string, DeploymentState>();
    const latest = new Map<string, DeploymentState>();
    let lastSeq = 0;
    const drain = (n: number): void => {
      const rows = outbox.peek(n);
      for (const r of rows) {
        if (r.seq <= lastSeq) throw new Error('out of order or duplicate');
        lastSeq = r.seq;
        serverSeen.set(r.deploymentId, r.status.state);
      }
      if (rows.length > 0) outbox.ack(rows[rows.length - 1]!.seq);
    };
    for (const o of ops) {
      if (o.kind === 'status') {
        outbox.enqueue(status(o.id, o.state), at);
        latest.set(o.id, o.state);
      } else drain(o.n);
    }
    drain(Number.MAX_SAFE_INTEGER);
    for (const [id, s] of latest) if (serverSeen.get(id) !== s) throw new Error(`${id}: server has ${serverSeen.get(id)}, latest ${s}`);
    return outbox.length() === 0;
  }));
  t.pass('held for every generated run');
});

t.test('a row whose status is not JSON is still drained (issue 14), with what its columns say', async (t) => {
  const db = memoryDb();
  const { outbox } = createFleetStore(db);
  db.prepare('INSERT INTO fleet_outbox (deployment_id, revision, state, fingerprint, status, created_at) VALUES (?, ?, ?, ?, ?, ?)').run('web', 'r1', 'Ready', 'fp', '{not json', '2026-11-24T08:00:00.000Z');
  const rows = outbox.peek();
  t.equal(rows.length, 1);
  t.match(rows[0]?.status, { deploymentId: 'web', revision: 'r1', state: 'Ready', message: /status unreadable/ });
});
