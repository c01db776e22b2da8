// /ui/plans: node plans (issue 15) with their rollout over nodes; /ui/plans/NAME: one plan's
// options and the state of every node it targets, with pause/resume/cancel for those the API
// allows them (admins, as POST /v1/plans/NAME/pause|resume|cancel). The page reads the plan
// service the API handlers call (GET /v1/plans, /v1/plans/NAME), so it shows what `drover plan
// list|status` print. Users who are not admins see, read-only, the plans that target nodes of
// clusters they hold a role on, and only those nodes (the dashboard's cluster visibility,
// decision 0931/1071); they get no buttons, and the actions refuse them.
import { html, type Html } from '../html.ts';
import { liveUrl, type Page } from '../layout.ts';
import { progressBar, stackedBar, type Segment } from '../svg.ts';
import { badge, stateClass, when } from '../format.ts';
import { canAdminister, canSeeCluster, type Viewer } from '../viewer.ts';
import type { UiDeps } from './deps.ts';
import { ServerError } from '../../errors.ts';
import { PlanError } from '../../plans/errors.ts';
import type { PlanNodeView, PlanStatusView, PlanSummary } from '../../plans/plan-view.ts';
import type { PlanService } from '../../plans/plan-service.ts';

const SUMMARY_STATES: [keyof PlanSummary, string][] = [
  ['succeeded', 'Succeeded'], ['inProgress', 'InProgress'], ['pending', 'Pending'], ['paused', 'Paused'],
  ['failed', 'Failed'], ['rolledBack', 'RolledBack'], ['offline', 'Offline'], ['canceled', 'Canceled'],
];
const SUMMARY_KEY = new Map(SUMMARY_STATES.map(([k, s]) => [s, k]));

export const planSegments = (s: PlanSummary): Segment[] => SUMMARY_STATES.map(([k, state]) => ({ label: state, value: s[k], cls: stateClass(state) }));
export const planSummaryText = (s: PlanSummary): string => SUMMARY_STATES.filter(([k]) => s[k] > 0).map(([k, state]) => `${s[k]} ${state}`).join(', ') || 'no nodes targeted';
const total = (s: PlanSummary): number => SUMMARY_STATES.reduce((n, [k]) => n + s[k], 0);

/** The counts of these nodes' states (a user's share of a plan). */
export function summariseNodes(nodes: readonly PlanNodeView[]): PlanSummary {
  const s: PlanSummary = { pending: 0, inProgress: 0, succeeded: 0, failed: 0, rolledBack: 0, paused: 0, offline: 0, canceled: 0 };
  for (const n of nodes) {
    const k = SUMMARY_KEY.get(n.state);
    if (k) s[k]++;
  }
  return s;
}

/** "paused", "canceled", "halted", or "active" (rollout control of the whole plan). */
export function planCondition(p: { paused: boolean; canceled: boolean; halted: boolean }): string {
  return p.canceled ? 'canceled' : p.halted ? 'halted' : p.paused ? 'paused' : 'active';
}

/** The actions offered for a plan in this condition (the API accepts each at any time; these are the useful ones). */
export function planActions(p: { paused: boolean; canceled: boolean; halted: boolean }): ('pause' | 'resume' | 'cancel')[] {
  if (p.canceled) return [];
  return [...(p.paused || p.halted ? ['resume' as const] : ['pause' as const]), 'cancel' as const];
}

function service(deps: UiDeps): PlanService {
  if (!deps.plans) throw new ServerError('NOT_FOUND', 'node plans are not served by this server');
  return deps.plans;
}

/** A plan as this viewer may see it: all of it for admins, else only nodes of visible clusters (undefined: none). */
async function visible(deps: UiDeps, viewer: Viewer, status: PlanStatusView, clusterOf: () => Promise<Map<string, string>>): Promise<PlanStatusView | undefined> {
  if (viewer.admin) return status;
  const of = await clusterOf();
  const nodes = status.nodes.filter((n) => canSeeCluster(viewer, of.get(n.id) ?? ''));
  return nodes.length === 0 ? undefined : { ...status, nodes, summary: summariseNodes(nodes) };
}

const nodeClusters = (deps: UiDeps): (() => Promise<Map<string, string>>) => {
  let memo: Promise<Map<string, string>> | undefined;
  return () => (memo ??= deps.ctx.store.listNodes().then((ns) => new Map(ns.map((n) => [n.id, n.clusterId]))));
};

export async function plansPage(deps: UiDeps, viewer: Viewer): Promise<Page> {
  const plans = service(deps);
  const clusterOf = nodeClusters(deps);
  const rows: PlanStatusView[] = [];
  for (const p of await plans.list()) {
    const v = await visible(deps, viewer, await plans.status(p.name), clusterOf);
    if (v) rows.push(v);
  }
  const main = html`<h1>Node plans</h1>
  ${viewer.admin ? '' : html`<p class="muted">Plans that target nodes of your clusters, and only those nodes. Plans are controlled by admins.</p>`}
  <table><thead><tr><th scope="col">Plan</th><th scope="col">Condition</th><th scope="col">Progress (Succeeded / nodes)</th><th scope="col">Nodes by state</th><th scope="col">Target</th></tr></thead>
  <tbody>${rows.length === 0 ? html`<tr><td colspan="5" class="muted">No node plans${viewer.admin ? ' yet (drover plan apply)' : ' on your clusters'}.</td></tr>` : rows.map((p) => html`<tr data-plan="${p.name}" data-condition="${planCondition(p)}">
    <td><a href="/ui/plans/${encodeURIComponent(p.name)}">${p.name}</a></td><td>${badge(planCondition(p))}</td>
    <td>${progressBar(`${p.name} progress`, p.summary.succeeded, total(p.summary))}</td>
    <td>${stackedBar(`${p.name} nodes by state`, planSegments(p.summary), { height: 12 })}<div class="muted">${planSummaryText(p.summary)}</div></td>
    <td class="mono">${p.target}</td></tr>`)}</tbody></table>`;
  return { title: 'Node plans', nav: 'plans', main, live: liveUrl('/ui/plans') };
}

export async function planPage(deps: UiDeps, viewer: Viewer, name: string): Promise<Page> {
  const plans = service(deps);
  let status: PlanStatusView;
  try {
    status = await plans.status(name);
  } catch (err) {
    if (err instanceof PlanError) throw new ServerError('NOT_FOUND', err.message);
    throw err;
  }
  const p = await visible(deps, viewer, status, nodeClusters(deps));
  // A plan that touches none of the viewer's clusters is "not found", as for clusters.
  if (!p) throw new ServerError('NOT_FOUND', `no plan ${name} (or it targets none of your clusters)`);
  const now = deps.ctx.clock.now();
  const condition = planCondition(p);
  const clusterOf = await nodeClusters(deps)();
  const clusterName = new Map((await deps.clusters.get()).map((c) => [c.id, c.name]));
  const controls: Html | string = canAdminister(viewer) && planActions(p).length > 0
    ? html`<div class="actions" data-testid="plan-actions">${planActions(p).map((a) => html`<form class="inline" method="post" action="/ui/plans/${encodeURIComponent(p.name)}/${a}">
        <input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit"${a === 'cancel' ? html` class="danger"` : ''}>${a === 'pause' ? 'Pause' : a === 'resume' ? 'Resume' : 'Cancel'} plan</button></form>`)}</div>`
    : '';
  const main = html`<p><a href="/ui/plans">← Node plans</a></p><h1>Plan ${p.name}</h1>
  ${p.halted ? html`<p class="alert" role="alert">The rollout stopped: more nodes failed than --max-failures ${p.maxFailures} allows. Resume goes on and accepts the failures so far.</p>` : ''}
  <div class="grid"><section class="card" aria-labelledby="opts-h"><h2 id="opts-h">Rollout</h2>
    <dl class="facts"><dt>Condition</dt><dd>${badge(condition)}</dd>
    <dt>Target</dt><dd class="mono">${p.target}</dd><dt>Concurrency</dt><dd>${p.concurrency}</dd>
    <dt>Max failures</dt><dd>${p.maxFailures}</dd><dt>Window</dt><dd>${p.window ?? html`<span class="muted">any time</span>`}</dd>
    <dt>Checksum</dt><dd class="mono">${p.checksum.slice(0, 16)}</dd></dl>${controls}</section>
  <section class="card" aria-labelledby="prog-h"><h2 id="prog-h">Progress</h2>
    ${stackedBar(`Plan ${p.name} nodes by state`, planSegments(p.summary))}
    <p>${progressBar('Succeeded', p.summary.succeeded, total(p.summary))} <span class="muted">${planSummaryText(p.summary)}</span></p></section></div>
  <h2>Nodes</h2>
  <table><thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">State</th><th scope="col">Instruction</th><th scope="col">Exit code</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
  <tbody>${p.nodes.length === 0 ? html`<tr><td colspan="7" class="muted">No node matches the target.</td></tr>` : p.nodes.map((n) => {
    const cluster = clusterOf.get(n.id) ?? '';
    return html`<tr data-node="${n.id}" data-cluster="${cluster}" data-state="${n.state}">
    <td>${n.name}<div class="muted mono">${n.id}</div></td><td><a href="/ui/clusters/${encodeURIComponent(cluster)}">${clusterName.get(cluster) ?? cluster}</a></td><td>${badge(n.state)}</td><td>${n.instruction ?? '-'}</td>
    <td class="num">${n.exitCode ?? '-'}</td><td>${n.message}</td><td>${when(n.since, now)}</td></tr>`;
  })}</tbody></table>`;
  return { title: `Plan ${p.name}`, nav: 'plans', main, live: liveUrl(`/ui/plans/${encodeURIComponent(name)}`) };
}
