// clustergroup CLI: names and selectors are checked before anything is sent (usage errors, exit 2).
import t from 'tap';
import { checkGroupInput, formatSelector } from './clustergroup.ts';

t.test('checkGroupInput: DNS-label names and parseable selectors only', async (t) => {
  t.doesNotThrow(() => checkGroupInput('site-a', 'env=edge,site in (a,b),!legacy'));
  t.throws(() => checkGroupInput('Site_A', 'env=edge'), { exitCode: 2, message: /must be a DNS label/ });
  t.throws(() => checkGroupInput('ok', 'site in (a'), { exitCode: 2, message: /--selector: SELECTOR_INVALID/ });
  t.throws(() => checkGroupInput('ok', 'tier in ()'), { exitCode: 2, message: /needs at least one value/ });
});

t.test('formatSelector: labels then expressions; empty means all clusters', async (t) => {
  t.equal(formatSelector({ matchLabels: { env: 'edge' }, matchExpressions: [{ key: 'site', operator: 'In', values: ['a', 'c'] }, { key: 'x', operator: 'Exists' }] }), 'env=edge,site In (a,c),x Exists');
  t.equal(formatSelector({}), '(all clusters)');
});
