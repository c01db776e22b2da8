// The delivery plan for one fleet agent: which deployments are sent, acknowledged, removed or
// forgotten, from the rows and what the agent holds. Carried out over real tunnels in
// test/integration/fleet-sync.test.ts and test/e2e/fleet-wire.test.ts.
import t from 'tap';
import { planDelivery, type DeliveryRow } from './delivery-plan.ts';
import { DeliveryOptionsMemo, heldKey } from './delivery-options.ts';
import type { BundleSpec } from './fleet-store.ts';

const specs: Record<string, BundleSpec> = {
  db: { labels: { tier: 'infra' } },
  web: { correctDrift: true, dependsOn: [{ selector: { matchLabels: { tier: 'infra' } } }] },
  plain: {},
};

function plan(rows: DeliveryRow[], held: Map<string, string>, refused = new Set<string>()) {
  const memo = new DeliveryOptionsMemo((b) => specs[b] ?? {});
  memo.at(1);
  return planDelivery({ rows, held, optionsOf: (b, a) => memo.of(b, a), refused: (b, k) => refused.has(`${b}/${k}`) });
}

t.test('a new agent holding nothing gets every assigned deployment, with options resolved on its cluster', async (t) => {
  const steps = plan([
    { bundle: 'db', desiredRevision: 'r1', ackedRevision: null },
    { bundle: 'web', desiredRevision: 'r2', ackedRevision: null },
  ], new Map());
  t.same(steps.map((s) => s.kind), ['send', 'send']);
  const web = steps[1];
  t.ok(web?.kind === 'send' && web.heldRevision === undefined, 'no base for a delta');
  t.same(web?.kind === 'send' ? web.options : null, { correctDrift: true, dependsOn: [{ deploymentId: 'db' }] });
});

t.test('held with the same revision and options: nothing, or only the missing acknowledgement', async (t) => {
  const held = new Map([['plain', heldKey('r1', {})], ['db', heldKey('r1', {})]]);
  const steps = plan([
    { bundle: 'plain', desiredRevision: 'r1', ackedRevision: 'r1' },
    { bundle: 'db', desiredRevision: 'r1', ackedRevision: null },
  ], held);
  t.same(steps, [{ kind: 'ack', bundle: 'db', revision: 'r1' }]);
});

t.test('a new revision is sent with the held revision as the delta base; new options alone resend the same revision', async (t) => {
  const steps = plan([
    { bundle: 'plain', desiredRevision: 'r2', ackedRevision: 'r1' },
    { bundle: 'web', desiredRevision: 'r5', ackedRevision: 'r5' },
  ], new Map([['plain', heldKey('r1', {})], ['web', heldKey('r5', {})]]));
  t.match(steps, [{ kind: 'send', bundle: 'plain', revision: 'r2', heldRevision: 'r1' }, { kind: 'send', bundle: 'web', revision: 'r5', heldRevision: 'r5' }]);
});

t.test('unassigned rows are removed where held, forgotten otherwise; held but never assigned is an orphan', async (t) => {
  const steps = plan([
    { bundle: 'db', desiredRevision: null, ackedRevision: 'r1' },
    { bundle: 'plain', desiredRevision: null, ackedRevision: null },
  ], new Map([['db', heldKey('r1', {})], ['gone', heldKey('r0', {})]]));
  t.same(steps, [{ kind: 'remove', bundle: 'db' }, { kind: 'forget', bundle: 'plain' }, { kind: 'orphan', bundle: 'gone' }]);
});

t.test('a deployment the agent refused on this session is not offered again, until it changes', async (t) => {
  const key = heldKey('r2', {});
  t.same(plan([{ bundle: 'plain', desiredRevision: 'r2', ackedRevision: null }], new Map(), new Set([`plain/${key}`])), []);
  t.equal(plan([{ bundle: 'plain', desiredRevision: 'r3', ackedRevision: null }], new Map(), new Set([`plain/${key}`])).length, 1);
});

t.test('options memo: read once per bundle and generation, dropped on a new generation; selector options not memoised', async (t) => {
  let reads = 0;
  const memo = new DeliveryOptionsMemo((b) => { reads++; return specs[b] ?? {}; });
  memo.at(1);
  memo.of('plain', ['plain']);
  memo.of('plain', ['plain']);
  t.equal(reads, 1);
  memo.at(2);
  memo.of('plain', ['plain']);
  t.equal(reads, 2);
  t.same(memo.of('web', ['web']).options, { correctDrift: true, dependsOn: [{ deploymentId: 'selector:{"matchLabels":{"tier":"infra"}}' }] });
  t.same(memo.of('web', ['web', 'db']).options, { correctDrift: true, dependsOn: [{ deploymentId: 'db' }] }, 'per cluster');
});
