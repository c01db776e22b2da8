// The drift watch's loop against a scripted watch source, on a ManualClock: where it starts,
// how it follows bookmarks, resumes after the apiserver's timeout, relists after 410 Gone (and
// says so, so a pass re-reads what may have been missed), and backs off after failures.
import t from 'tap';
import pino from 'pino';
import { ManualClock } from '../../protocol/index.ts';
import type { KubeObject } from './types.ts';
import type { Kube, WatchHandlers, WatchOptions, WatchScope } from './kube.ts';
import { ScopeWatch } from './scope-watch.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const obj = (name: string, rv: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'a', resourceVersion: rv } });

function source(): { kube: Pick<Kube, 'collectionVersion' | 'watch'>; lists: number; watches: { opts: WatchOptions; h: WatchHandlers; stopped: boolean }[]; listRv: string; failList: boolean } {
  const s = {
    lists: 0, listRv: '100', failList: false,
    watches: [] as { opts: WatchOptions; h: WatchHandlers; stopped: boolean }[],
    kube: {} as Pick<Kube, 'collectionVersion' | 'watch'>,
  };
  s.kube = {
    collectionVersion: async () => {
      s.lists++;
      if (s.failList) throw new Error('connect ECONNREFUSED');
      return s.listRv;
    },
    watch: (_scope: WatchScope, opts: WatchOptions, h: WatchHandlers) => {
      const w = { opts, h, stopped: false };
      s.watches.push(w);
      return { stop: () => { w.stopped = true; } };
    },
  };
  return s;
}

const scope: WatchScope = { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'a' };

t.test('starts from the listed resourceVersion, follows events and bookmarks, resumes from the last one', async (t) => {
  const clock = new ManualClock();
  const src = source();
  const events: string[] = [];
  let gaps = 0;
  const w = new ScopeWatch({ kube: src.kube, scope, labelSelector: 'drover.dev/bundle', log: pino({ level: 'silent' }), clock, random: () => 0.5, onEvent: (e) => events.push(`${e.type} ${e.object.metadata.name}`), onGap: () => gaps++ });
  w.start();
  await tick();
  t.equal(src.lists, 1, 'one one-item LIST');
  t.equal(src.watches[0]?.opts.resourceVersion, '100', 'the watch starts at the list\'s version');
  t.equal(src.watches[0]?.opts.labelSelector, 'drover.dev/bundle');
  src.watches[0]!.h.event({ type: 'DELETED', object: obj('x', '105') });
  src.watches[0]!.h.event({ type: 'BOOKMARK', object: obj('', '130') });
  t.same(events, ['DELETED x'], 'bookmarks are not events');
  t.equal(w.resourceVersion, '130');
  clock.advance(5_000);
  src.watches[0]!.h.end();
  t.equal(src.watches.length, 2, 'resumed at once after the apiserver ended the watch');
  t.equal(src.watches[1]?.opts.resourceVersion, '130', 'from the bookmark');
  t.equal(src.lists, 1, 'without a relist');
  t.equal(gaps, 0, 'nothing missed');
  w.stop();
});

t.test('410 Gone relists at once and reports a gap; failures back off on the clock', async (t) => {
  const clock = new ManualClock();
  const src = source();
  let gaps = 0;
  const w = new ScopeWatch({ kube: src.kube, scope, labelSelector: 'drover.dev/bundle', log: pino({ level: 'silent' }), clock, random: () => 0.5, onEvent: () => {}, onGap: () => gaps++ });
  w.start();
  await tick();
  src.listRv = '900';
  src.watches[0]!.h.event({ type: 'ERROR', object: { apiVersion: 'v1', kind: 'Status', metadata: { name: '' }, code: 410 } });
  await tick();
  t.equal(src.lists, 2, 'relisted');
  t.equal(gaps, 1, 'a gap: a pass re-reads the objects');
  t.equal(src.watches[1]?.opts.resourceVersion, '900');
  t.ok(src.watches[0]?.stopped, 'the expired watch was closed');

  // The apiserver goes away: the watch fails and so does the relist; retries wait on the clock.
  src.failList = true;
  src.watches[1]!.h.end({ message: 'socket hang up' });
  await tick();
  t.equal(src.lists, 2, 'no relist before the backoff');
  t.equal(clock.pending(), 1, 'one timer');
  clock.advance(60_000);
  await tick();
  t.equal(src.lists, 3, 'relist tried after the backoff');
  const before = src.lists;
  clock.advance(500);
  await tick();
  t.equal(src.lists, before, 'and not again at once: the delay grows');
  src.failList = false;
  clock.advance(120_000);
  await tick();
  t.ok(src.lists > before, 'relisted once the backoff passed');
  t.equal(src.watches.at(-1)?.opts.resourceVersion, '900');
  t.equal(gaps, 2, 'the failure counts as a gap');
  w.stop();
  t.equal(clock.pending(), 0, 'stop clears the timers');
});

t.test('a watch that ends at once without an event does not spin', async (t) => {
  const clock = new ManualClock();
  const src = source();
  const w = new ScopeWatch({ kube: src.kube, scope, labelSelector: 'drover.dev/bundle', log: pino({ level: 'silent' }), clock, random: () => 0.5, onEvent: () => {}, onGap: () => {} });
  w.start();
  await tick();
  src.watches[0]!.h.end();
  t.equal(src.watches.length, 1, 'not re-watched at once');
  clock.advance(60_000);
  t.equal(src.watches.length, 2, 're-watched after a backoff');
  t.equal(src.watches[1]?.opts.resourceVersion, '100');
  w.stop();
});
