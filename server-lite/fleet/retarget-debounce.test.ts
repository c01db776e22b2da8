import t from 'tap';
import { retargetDecision, type RetargetState } from './retarget-debounce.ts';

const start: RetargetState = { rendered: 'A', lastSeen: 'A', pendingSince: undefined };

t.test('retarget: nothing changed, nothing to do', async (t) => {
  t.equal(retargetDecision(start, 'A', 0, 30_000).retarget, false);
});

t.test('retarget: a change is rendered once it held still for one check', async (t) => {
  const a = retargetDecision(start, 'B', 0, 30_000);
  t.equal(a.retarget, false, 'just changed: wait one check');
  const b = retargetDecision(a.next, 'B', 2_000, 30_000);
  t.equal(b.retarget, true, 'unchanged since: render');
  t.equal(b.next.rendered, 'B');
  t.equal(retargetDecision(b.next, 'B', 4_000, 30_000).retarget, false, 'and not again');
});

t.test('retarget: a steady stream of changes is rendered at least every maxDelay', async (t) => {
  let s = start;
  const renders: number[] = [];
  for (let now = 0; now <= 70_000; now += 2_000) {
    const d = retargetDecision(s, `F${now}`, now, 30_000);
    if (d.retarget) renders.push(now);
    s = d.next;
  }
  t.same(renders, [30_000, 62_000], 'every 30 s while registrations keep coming, not every 2 s');
});

t.test('retarget: unknown rendered state (start-up) renders once things settle', async (t) => {
  const a = retargetDecision({ rendered: undefined, lastSeen: undefined, pendingSince: undefined }, 'A', 0, 30_000);
  t.equal(a.retarget, false);
  t.equal(retargetDecision(a.next, 'A', 2_000, 30_000).retarget, true);
});
