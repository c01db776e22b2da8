// The session registry: newest wins per (agent, role), a replaced session's late close cannot
// remove its successor, revocation closes every role of an agent.
import t from 'tap';
import fc from 'fast-check';
import { SessionRegistry, type CloseReason, type SessionHandle } from './session-registry.ts';
import type { Role } from '../store/store.ts';

function handle(id: string, agentId: string, role: Role, closed: Array<[string, CloseReason]>): SessionHandle {
  return {
    id, agentId, clusterId: `c-${agentId}`, nodeId: `n-${agentId}`, role, since: Number(id.replace(/\D/g, '') || 0),
    remoteAddress: '127.0.0.1', protocol: 'drover.v1',
    close: (reason) => closed.push([id, reason]),
  };
}

t.test('registry: the newest session for an agent and role wins; the old one is closed as superseded', async (t) => {
  const closed: Array<[string, CloseReason]> = [];
  const r = new SessionRegistry();
  const s1 = handle('s1', 'a', 'cluster', closed);
  const s2 = handle('s2', 'a', 'cluster', closed);
  r.add(s1);
  t.equal(r.add(s2)?.id, 's1');
  t.same(closed, [['s1', 'superseded']]);
  t.equal(r.size, 1);
  t.notOk(r.remove(s1), "the old session's late close does not remove the new one");
  t.equal(r.list()[0]?.id, 's2');
  t.ok(r.remove(s2));
  t.equal(r.size, 0);
});

t.test('registry: closeAgent closes every role of that agent only', async (t) => {
  const closed: Array<[string, CloseReason]> = [];
  const r = new SessionRegistry();
  r.add(handle('s1', 'a', 'cluster', closed));
  r.add(handle('s2', 'a', 'node', closed));
  r.add(handle('s3', 'b', 'node', closed));
  t.equal(r.closeAgent('a', 'revoked'), 2);
  t.same(closed.map(([id]) => id).sort(), ['s1', 's2']);
  t.ok(r.hasAgent('b'));
  t.notOk(r.hasAgent('a'));
  t.same(r.countByRole(), { cluster: 0, node: 1, fleet: 0 });
});

t.test('registry: after any sequence of adds and removes, at most one session per (agent, role)', async () => {
  const roles: Role[] = ['cluster', 'node', 'fleet'];
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 30 })), { maxLength: 60 }),
      (ops) => {
        const r = new SessionRegistry();
        const made: SessionHandle[] = [];
        let n = 0;
        for (const [add, agent, role, pick] of ops) {
          if (add) {
            const h = handle(`s${n++}`, `a${agent}`, roles[role] ?? 'cluster', []);
            made.push(h);
            r.add(h);
          } else if (made.length > 0) {
            r.remove(made[pick % made.length] as SessionHandle);
          }
        }
        const keys = r.list().map((s) => `${s.agentId}/${s.role}`);
        return new Set(keys).size === keys.length && keys.length === r.size;
      },
    ),
  );
});

t.test('registry: clusterSession finds the cluster-role tunnel of a cluster, and forgets it on close', async (t) => {
  const closed: Array<[string, CloseReason]> = [];
  const r = new SessionRegistry();
  const fleet = handle('s1', 'a', 'fleet', closed);
  r.add(fleet);
  t.equal(r.clusterSession('c-a'), undefined, 'only cluster-role sessions serve the proxy');
  const c1 = handle('s2', 'a', 'cluster', closed);
  r.add(c1);
  t.equal(r.clusterSession('c-a')?.id, 's2');
  const c2 = handle('s3', 'a', 'cluster', closed);
  r.add(c2);
  t.equal(r.clusterSession('c-a')?.id, 's3', 'the replacement');
  t.notOk(r.remove(c1));
  t.equal(r.clusterSession('c-a')?.id, 's3', "a replaced session's late close keeps the index");
  r.closeAgent('a', 'revoked');
  t.equal(r.clusterSession('c-a'), undefined);
  t.notOk(r.list().some((s) => 'openStream' in s || 'close' in s), 'listings carry no functions');
});
