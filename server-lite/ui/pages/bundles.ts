// /ui/bundles (admins, as /v1/bundles): every bundle with its rollout progress (Ready of targeted
// clusters) and a readiness picture over all deployments; /ui/bundles/NAME: the summary by state,
// the per-cluster table (with why a cluster is held back) and the agents' recent status reports.
import { html } from '../html.ts';
import { liveUrl, type Page } from '../layout.ts';
import { progressBar, stackedBar } from '../svg.ts';
import { badge, summarySegments, summaryText, when } from '../format.ts';
import type { UiDeps } from './deps.ts';
import { FleetError } from '../../fleet/errors.ts';
import { summarise } from '../../fleet/deployment-state.ts';

export async function bundlesPage(deps: UiDeps): Promise<Page> {
  const m = deps.fleet.manager;
  const list = await m.list();
  const statuses = (await Promise.all(list.map((b) => m.status(b.name)))).filter((s) => s !== undefined);
  const overall = summarise(statuses.flatMap((s) => s.clusters.map((c) => c.state)));
  const main = html`<h1>Bundles</h1>
  <section class="card" aria-labelledby="ready-h"><h2 id="ready-h">Readiness over all deployments</h2>
    ${stackedBar('Bundle deployments by state', summarySegments(overall))}<p class="muted">${summaryText(overall)}</p></section>
  <table><thead><tr><th scope="col">Bundle</th><th scope="col">State</th><th scope="col">Rollout (Ready / targeted)</th><th scope="col">Revision</th><th scope="col">Problems</th></tr></thead>
  <tbody>${list.length === 0 ? html`<tr><td colspan="5" class="muted">No bundles yet (drover bundle push, drover gitrepo add).</td></tr>` : list.map((b) => html`<tr data-bundle="${b.name}" data-state="${b.state}">
    <td><a href="/ui/bundles/${encodeURIComponent(b.name)}">${b.name}</a></td><td>${badge(b.state)}</td>
    <td>${progressBar(`${b.name} rollout`, b.ready, b.clusters)}</td><td class="mono">${b.revision.slice(0, 12) || '-'}</td>
    <td>${b.error ? html`<span class="error">${b.error.code}: ${b.error.message}</span>` : ''}${b.warnings ? html` <span class="muted">${b.warnings} warning(s)</span>` : ''}</td></tr>`)}</tbody></table>`;
  return { title: 'Bundles', nav: 'bundles', main, live: liveUrl('/ui/bundles') };
}

export async function bundlePage(deps: UiDeps, name: string): Promise<Page> {
  const m = deps.fleet.manager;
  const s = await m.status(name);
  if (!s) throw new FleetError('BUNDLE_NOT_FOUND', `no bundle named ${name}`);
  const now = deps.ctx.clock.now();
  const events = ((await m.events(name, { limit: 30 })) ?? []).slice().reverse();
  const main = html`<p><a href="/ui/bundles">← Bundles</a></p><h1>Bundle ${s.name}</h1>
  ${s.error ? html`<p class="alert" role="alert">The latest source did not render (${s.error.code}): ${s.error.message}. Clusters keep revision ${s.revision.slice(0, 12)}.</p>` : ''}
  <section class="card" aria-labelledby="sum-h"><h2 id="sum-h">Summary</h2>
    ${stackedBar(`Bundle ${s.name} by state`, summarySegments(s.summary))}
    <p>${progressBar('Rollout', s.summary.ready, s.summary.desiredReady)} <span class="muted">${summaryText(s.summary)} · revision <span class="mono">${s.revision.slice(0, 12)}</span></span></p>
    ${(s.warnings ?? []).length > 0 ? html`<ul>${(s.warnings ?? []).map((w) => html`<li class="muted">${w}</li>`)}</ul>` : ''}</section>
  <h2>Clusters</h2>
  <table><thead><tr><th scope="col">Cluster</th><th scope="col">State</th><th scope="col">Message</th><th scope="col">Applied revision</th></tr></thead>
  <tbody>${s.clusters.length === 0 ? html`<tr><td colspan="4" class="muted">No cluster is targeted.</td></tr>` : s.clusters.map((c) => html`<tr data-cluster="${c.id}" data-state="${c.state}">
    <td><a href="/ui/clusters/${encodeURIComponent(c.id)}">${c.name ?? c.id}</a></td><td>${badge(c.state)}</td><td>${c.message}${c.rollout ? html` <span class="muted">(partition ${c.rollout.partition})</span>` : ''}</td>
    <td class="mono">${(c.appliedRevision ?? '').slice(0, 12) || '-'}</td></tr>`)}</tbody></table>
  <h2>Recent status reports</h2>
  <table><thead><tr><th scope="col">Received</th><th scope="col">Cluster</th><th scope="col">State</th><th scope="col">Message</th></tr></thead>
  <tbody>${events.length === 0 ? html`<tr><td colspan="4" class="muted">No reports yet.</td></tr>` : events.map((e) => html`<tr><td>${when(new Date(e.receivedAt).toISOString(), now)}</td>
    <td><a href="/ui/clusters/${encodeURIComponent(e.clusterId)}">${e.clusterId}</a></td><td>${badge(e.state)}</td><td>${e.message}</td></tr>`)}</tbody></table>`;
  return { title: `Bundle ${s.name}`, nav: 'bundles', main, live: liveUrl(`/ui/bundles/${encodeURIComponent(name)}`) };
}
