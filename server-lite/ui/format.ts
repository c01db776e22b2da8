// Small pure renderers shared by the pages: state badges, times ("3 min ago"), labels, and the
// mapping from Drover's states to the colour classes the pictures use.
import { html, type Html } from './html.ts';
import type { Segment } from './svg.ts';
import type { HealthState } from '../health.ts';
import type { DeploymentState, StateSummary } from '../fleet/deployment-state.ts';

const CLASS: Record<string, string> = {
  Connected: 'st-ready',
  Ready: 'st-ready',
  active: 'st-ready',
  Stale: 'st-warn',
  NotReady: 'st-warn',
  WaitApplied: 'st-warn',
  OutOfSync: 'st-warn',
  Modified: 'st-warn',
  Pending: 'st-none',
  Offline: 'st-offline',
  ErrApplied: 'st-bad',
  revoked: 'st-none',
  expired: 'st-none',
  'used-up': 'st-none',
  // Node plans (pages/plans.ts): node states and a plan's condition.
  Succeeded: 'st-ready',
  InProgress: 'st-warn',
  Paused: 'st-warn',
  paused: 'st-warn',
  Failed: 'st-bad',
  RolledBack: 'st-bad',
  halted: 'st-bad',
  Canceled: 'st-none',
  canceled: 'st-none',
  // Agent upgrades (pages/upgrades.ts): agent states and a rollout's state.
  Downloading: 'st-warn',
  Staged: 'st-warn',
  Restarting: 'st-warn',
  Running: 'st-warn',
  Halted: 'st-bad',
  Done: 'st-ready',
  Superseded: 'st-none',
};

export const stateClass = (state: string): string => CLASS[state] ?? 'st-none';

export function badge(state: string): Html {
  return html`<span class="state ${stateClass(state)}" data-state="${state}">${state}</span>`;
}

/** "42 s ago", "3 min ago", "5 h ago", "12 days ago"; `never` for null. */
export function ago(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

/** A time as text with the exact ISO value in a <time> element. */
export function when(iso: string | null, now: number): Html {
  return iso === null ? html`<span class="muted">never</span>` : html`<time datetime="${iso}" title="${iso}">${ago(iso, now)}</time>`;
}

export function labelList(labels: Readonly<Record<string, string>>): Html {
  const entries = Object.entries(labels);
  return entries.length === 0 ? html`<span class="muted">none</span>` : html`${entries.map(([k, v]) => html`<span class="label">${k}=${v}</span>`)}`;
}

export function healthSegments(counts: Record<HealthState, number>): Segment[] {
  return (['Connected', 'Stale', 'Offline'] as const).map((s) => ({ label: s, value: counts[s], cls: stateClass(s) }));
}

const SUMMARY_STATES: [keyof StateSummary, DeploymentState][] = [
  ['ready', 'Ready'],
  ['notReady', 'NotReady'],
  ['waitApplied', 'WaitApplied'],
  ['outOfSync', 'OutOfSync'],
  ['modified', 'Modified'],
  ['pending', 'Pending'],
  ['errApplied', 'ErrApplied'],
  ['offline', 'Offline'],
];

export function summarySegments(s: StateSummary): Segment[] {
  return SUMMARY_STATES.map(([key, state]) => ({ label: state, value: s[key], cls: stateClass(state) }));
}

/** "3 Ready, 1 Offline" (states with a count only), or "no bundles". */
export function summaryText(s: StateSummary | undefined): string {
  if (!s || s.desiredReady === 0) return 'no bundles';
  return SUMMARY_STATES.filter(([k]) => s[k] > 0).map(([k, state]) => `${s[k]} ${state}`).join(', ');
}
