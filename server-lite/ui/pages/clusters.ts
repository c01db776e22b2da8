// /ui/clusters: every cluster the viewer may see, with state, labels, Kubernetes version, last
// seen and its bundles' summary; filtered by label selector, state and name, sorted, paginated.
// Offline clusters keep their last-known bundle states and say since when they are offline.
import { html, type Html } from '../html.ts';
import { liveUrl, type Page } from '../layout.ts';
import { parseClusterQuery, queryClusters, queryString, PAGE_SIZES, type ClusterQuery, type SortKey } from '../cluster-query.ts';
import { historyChart, stackedBar } from '../svg.ts';
import { badge, healthSegments, labelList, summaryText, when } from '../format.ts';
import type { Viewer } from '../viewer.ts';
import { lastReported, visibleClusters, type UiDeps } from './deps.ts';
import { STATES } from '../../health.ts';

const COLUMNS: { key: SortKey | undefined; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'state', label: 'State' },
  { key: undefined, label: 'Labels' },
  { key: 'kubernetesVersion', label: 'Kubernetes' },
  { key: 'lastSeen', label: 'Last seen' },
  { key: undefined, label: 'Bundles' },
];

function header(q: ClusterQuery, key: SortKey | undefined, label: string): Html {
  if (key === undefined) return html`<th scope="col">${label}</th>`;
  const active = q.sort === key;
  const next = queryString(q, { sort: key, desc: active ? !q.desc : false, page: 1 });
  const sort = active ? (q.desc ? 'descending' : 'ascending') : 'none';
  return html`<th scope="col" aria-sort="${sort}"><a href="/ui/clusters${next}">${label}${active ? (q.desc ? ' ▼' : ' ▲') : ''}</a></th>`;
}

/** All clusters' states over time (admins: the counts include every cluster). */
function overTime(deps: UiDeps, now: number): Html {
  const samples = deps.history.samples();
  const first = samples[0];
  return html`<h3 class="muted">Over time${first ? html` <span class="muted">(one sample a minute since ${when(new Date(first.at).toISOString(), now)}; not kept across server restarts)</span>` : ''}</h3>
    ${historyChart('All clusters by state over time', samples.map((s) => ({ at: s.at, segments: healthSegments(s.counts) })))}`;
}

export async function clustersPage(deps: UiDeps, viewer: Viewer, url: URL): Promise<Page> {
  const now = deps.ctx.clock.now();
  const q = parseClusterQuery(url.searchParams);
  const all = await visibleClusters(deps, viewer);
  const page = queryClusters(all, q);
  const fleet = await deps.fleet.manager.clusters();
  const reported = new Map(await Promise.all(page.rows.flatMap((c) => {
    const f = fleet.get(c.id);
    return f && c.state === 'Offline' ? [lastReported(deps, c.id, f.bundles.map((b) => b.name)).then((r) => [c.id, r] as const)] : [];
  })));
  const rows = page.rows.map((c) => {
    const f = fleet.get(c.id);
    const offline = c.state === 'Offline';
    return html`<tr data-cluster="${c.id}" data-state="${c.state}">
      <td><a href="/ui/clusters/${encodeURIComponent(c.id)}">${c.name}</a><div class="muted mono">${c.id}</div></td>
      <td>${badge(c.state)}${offline ? html`<div class="muted">since ${when(c.lastSeen, now)}</div>` : ''}</td>
      <td>${labelList(c.labels)}</td>
      <td>${c.kubernetesVersion ?? html`<span class="muted">unknown</span>`}</td>
      <td>${when(c.lastSeen, now)}</td>
      <td>${f ? html`${badge(f.state)} <span class="muted">${summaryText(f.summary)}</span>${offline ? html`<div class="muted" data-testid="last-reported">last reported: ${reported.get(c.id) ?? 'nothing'}</div>` : ''}` : html`<span class="muted">no bundles</span>`}</td></tr>`;
  });
  const nav = (label: string, p: number, rel: string) =>
    html`<a href="/ui/clusters${queryString(q, { page: p })}" rel="${rel}">${label}</a>`;
  const pager = html`<nav class="pager" aria-label="Pages">
    ${page.page > 1 ? nav('← Previous', page.page - 1, 'prev') : ''}
    <span>Page ${page.page} of ${page.pages} · ${page.total} clusters</span>
    ${page.page < page.pages ? nav('Next →', page.page + 1, 'next') : ''}</nav>`;
  const main = html`<h1>Clusters</h1>
  <section class="card" aria-labelledby="states-h"><h2 id="states-h">States</h2>
    ${stackedBar('Cluster states', healthSegments(page.counts))}
    <div class="legend">${healthSegments(page.counts).map((s) => html`<span>${badge(s.label)} ${s.value}</span>`)}</div>
    ${viewer.admin ? overTime(deps, now) : ''}</section>
  <form class="filters" method="get" action="/ui/clusters" role="search" aria-label="Filter clusters">
    <label for="f-labels">Labels<input id="f-labels" name="labels" value="${q.selector}" placeholder="env=prod,region in (eu,us)" size="28"></label>
    <label for="f-state">State<select id="f-state" name="state"><option value="">any</option>${STATES.map((s) => html`<option${q.state === s ? html` selected` : ''}>${s}</option>`)}</select></label>
    <label for="f-q">Name or id<input id="f-q" name="q" value="${q.search}" size="16"></label>
    <label for="f-per">Per page<select id="f-per" name="perPage">${PAGE_SIZES.map((n) => html`<option${q.perPage === n ? html` selected` : ''}>${n}</option>`)}</select></label>
    <input type="hidden" name="sort" value="${q.sort}">${q.desc ? html`<input type="hidden" name="dir" value="desc">` : ''}
    <button type="submit">Filter</button> <a href="/ui/clusters">Clear</a></form>
  ${page.selectorError ? html`<p class="alert" role="alert">Label filter ignored: ${page.selectorError}</p>` : ''}
  ${pager}
  <table><caption class="muted">Clusters${q.selector ? ` matching ${q.selector}` : ''}</caption>
  <thead><tr>${COLUMNS.map((c) => header(q, c.key, c.label))}</tr></thead>
  <tbody>${rows.length > 0 ? rows : html`<tr><td colspan="6" class="muted">No cluster matches.</td></tr>`}</tbody></table>
  ${pager}`;
  return { title: 'Clusters', nav: 'clusters', main, live: liveUrl(`/ui/clusters${url.search}`) };
}
