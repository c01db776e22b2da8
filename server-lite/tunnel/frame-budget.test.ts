import t from 'tap';
import { FRAME_TYPES } from '../../protocol/index.ts';
import { AgentFrameBudgets, TokenBucket } from './frame-budget.ts';

const frame = (type: number) => Uint8Array.of(type, 0, 0, 0, 0, 1);

t.test('a token bucket allows a burst, then its rate', async (t) => {
  const b = new TokenBucket({ burst: 3, perSecond: 2 }, 0);
  t.same([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  t.equal(b.take(499), false, 'not yet a whole token');
  t.equal(b.take(500), true, 'one token after half a second at 2/s');
  t.equal(b.take(500), false);
  t.equal(b.take(100_000), true, 'refills up to the burst only');
  t.same([b.take(100_000), b.take(100_000), b.take(100_000)], [true, true, false]);
  t.equal(b.take(50), false, 'time going backwards gives nothing');
});

t.test('agents share one bucket across their sessions; DATA, WINDOW and RESET are free', async (t) => {
  const budgets = new AgentFrameBudgets({ burst: 2, perSecond: 1 });
  const a1 = budgets.acquire('a', 0);
  const a2 = budgets.acquire('a', 0);
  const b = budgets.acquire('b', 0);
  t.ok(a1.admit(frame(FRAME_TYPES.OPEN), 0));
  t.ok(a2.admit(frame(FRAME_TYPES.PING), 0));
  t.notOk(a1.admit(frame(FRAME_TYPES.CONTROL), 0), 'the agent spent its burst over two sessions');
  t.ok(b.admit(frame(FRAME_TYPES.OPEN), 0), 'another agent is not affected');
  for (const type of [FRAME_TYPES.DATA, FRAME_TYPES.WINDOW, FRAME_TYPES.RESET, FRAME_TYPES.PONG, FRAME_TYPES.GOAWAY]) t.ok(a1.admit(frame(type), 0));
  t.equal(budgets.size, 2);
  a1.release();
  a1.release();
  t.equal(budgets.size, 2, 'released twice counts once');
  a2.release();
  b.release();
  t.equal(budgets.size, 0, 'buckets go with the last session');
});
