import t from 'tap';
import { progressBar, stackedBar } from './svg.ts';

t.test('stackedBar: segments sized by share, empty ones left out, a text alternative naming the counts', async (t) => {
  const svg = stackedBar('cluster states', [
    { label: 'Connected', value: 3, cls: 'st-ready' },
    { label: 'Stale', value: 0, cls: 'st-warn' },
    { label: 'Offline', value: 1, cls: 'st-offline' },
  ]).text;
  t.match(svg, /aria-label="cluster states: 3 Connected, 1 Offline"/);
  t.match(svg, /class="st-ready" x="0%" y="0" width="75%"/);
  t.match(svg, /class="st-offline" x="75%" y="0" width="25%"/);
  t.notMatch(svg, /st-warn/);
  t.notMatch(svg, /style=/, 'no inline style (CSP)');
  t.match(stackedBar('x', []).text, /aria-label="x: none".*st-none/);
});

t.test('progressBar: clamps and writes the fraction', async (t) => {
  t.match(progressBar('rollout', 2, 4).text, /width="60".*2\/4/);
  t.match(progressBar('rollout', 5, 4).text, /class="st-ready" x="0" y="0" width="120"/);
  t.match(progressBar('rollout', 0, 0).text, /width="0".*0\/0/);
});
