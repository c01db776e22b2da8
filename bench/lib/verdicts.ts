// Budget checks of issue 3, pure: each takes the figure and its baseline from the same run and
// returns the comparison the report prints. NaN (a figure that could not be measured) is never
// a pass.

import { BUDGETS } from '../config.ts';

export type Verdict = 'PASS' | 'MISS' | 'N/A';

export interface Check {
  readonly verdict: Verdict;
  /** The budget in words, e.g. "≥ 0.80× raw WebSocket". */
  readonly budget: string;
  /** How far from the budget, signed so that negative means missed (ratio or ms). */
  readonly margin: number;
}

function known(...xs: number[]): boolean {
  return xs.every((x) => Number.isFinite(x));
}

/** A throughput ratio must reach `min` (ratio = figure / baseline). */
export function ratioAtLeast(figure: number, baseline: number, min: number, what: string): Check {
  const budget = `≥ ${min.toFixed(2)}× ${what}`;
  if (!known(figure, baseline) || baseline <= 0) return { verdict: 'N/A', budget, margin: Number.NaN };
  const ratio = figure / baseline;
  return { verdict: ratio >= min ? 'PASS' : 'MISS', budget, margin: ratio - min };
}

/** Added latency (figure − baseline, ms) must stay within `maxMs`; `strict` means below it. */
export function overheadAtMost(figure: number, baseline: number, maxMs: number, what: string, strict = false): Check {
  const budget = `${strict ? '<' : '≤'} ${maxMs} ms ${what}`;
  if (!known(figure, baseline)) return { verdict: 'N/A', budget, margin: Number.NaN };
  const over = figure - baseline;
  const ok = strict ? over < maxMs : over <= maxMs;
  return { verdict: ok ? 'PASS' : 'MISS', budget, margin: maxMs - over };
}

export const checks = {
  oneStreamVsWs: (tunnel: number, ws: number): Check =>
    ratioAtLeast(tunnel, ws, BUDGETS.oneStreamVsWs, 'raw WebSocket'),
  p50Overhead: (tunnel: number, direct: number): Check =>
    overheadAtMost(tunnel, direct, BUDGETS.p50OverheadMs, 'over direct'),
  p99Overhead: (tunnel: number, direct: number): Check =>
    overheadAtMost(tunnel, direct, BUDGETS.p99OverheadMs, 'over direct'),
  stalledChange: (stalled: number, calm: number): Check =>
    overheadAtMost(stalled, calm, BUDGETS.stalledChangeMs, 'change', true),
  vsRemotedialer: (tunnel: number, rd: number): Check =>
    ratioAtLeast(tunnel, rd, BUDGETS.vsRemotedialer, 'remotedialer'),
} as const;
