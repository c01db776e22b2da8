// /ui/clusters/ID: one cluster: its facts, Kubernetes nodes (as its agent last reported them),
// Drover agents and their tunnel sessions, bundles with their states, recent bundle events and
// Kubernetes Warning events, and a kubeconfig download. When the cluster is offline everything
// shown is its last-known state, and the page says so and since when.
import { z } from 'zod';
import { html, type Html } from '../html.ts';
import { liveUrl, type Page } from '../layout.ts';
import { stackedBar } from '../svg.ts';
import { badge, labelList, summarySegments, summaryText, when } from '../format.ts';
import { canSeeCluster, roleOn, type Viewer } from '../viewer.ts';
import { lastReported, type UiDeps } from './deps.ts';
import { agentView, clusterView, nodeView } from '../../views.ts';
import { ServerError } from '../../errors.ts';
import type { StatusEventRow } from '../../fleet/fleet-store.ts';

// The stored facts are what an agent sent: read them through a schema, never trusted as typed.
const kubeFactsSchema = z.object({
  kubernetesVersion: z.string().nullish(),
  collectedAt: z.string().optional(),
  nodes: z.array(z.object({
    name: z.string(),
    kubeletVersion: z.string().nullish(),
    allocatable: z.record(z.string(), z.string()).optional(),
    conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
  })).optional(),
  warnings: z.array(z.object({
    namespace: z.string().nullish(),
    object: z.string(),
    reason: z.string().nullish(),
    message: z.string(),
    count: z.number().optional(),
    lastSeen: z.string().nullish(),
  })).optional(),
});

const RECENT_EVENTS = 20;
/** Connection history rows shown (the store keeps up to 200 per cluster, 30 days). */
const RECENT_CONNECTIONS = 50;

export async function clusterPage(deps: UiDeps, viewer: Viewer, id: string): Promise<Page> {
  const { ctx, fleet } = deps;
  const now = ctx.clock.now();
  const record = canSeeCluster(viewer, id) ? await ctx.store.getCluster(id) : undefined;
  // A cluster the viewer holds no role on is "not found", as the proxy answers.
  if (!record) throw new ServerError('CLUSTER_NOT_FOUND', `no cluster ${id} (or you hold no role on it)`);
  const agents = await ctx.store.listAgents({ clusterId: id });
  const c = clusterView(ctx, record, agents);
  const nodes = (await ctx.store.listNodes({ clusterId: id })).map((n) => nodeView(ctx, n, agents));
  const agentRows = agents.map((a) => agentView(ctx, a));
  const parsed = kubeFactsSchema.safeParse((await ctx.store.getKubeFacts(id)) ?? {});
  const kube = parsed.success ? parsed.data : {};
  const f = await fleet.manager.cluster(id);
  const events: StatusEventRow[] = (await Promise.all(f.bundles.map((b) => fleet.store.statusEvents(b.name, { clusterId: id, limit: RECENT_EVENTS }))))
    .flat()
    .sort((a, b) => b.receivedAt - a.receivedAt)
    .slice(0, RECENT_EVENTS);
  const offline = c.state === 'Offline';
  const connections = (await ctx.store.connectionEvents?.(id, RECENT_CONNECTIONS)) ?? [];
  const hostOf = new Map(agents.map((a) => [a.id, a.hostname]));

  const facts = html`<dl class="facts">
    <dt>Id</dt><dd class="mono">${c.id}</dd>
    <dt>State</dt><dd>${badge(c.state)}</dd>
    <dt>Last seen</dt><dd>${when(c.lastSeen, now)}</dd>
    <dt>Labels</dt><dd>${labelList(c.labels)}</dd>
    <dt>Kubernetes</dt><dd>${kube.kubernetesVersion ?? c.kubernetesVersion ?? 'unknown'}${kube.collectedAt ? html` <span class="muted">(facts from ${when(kube.collectedAt, now)})</span>` : ''}</dd>
    <dt>Registered</dt><dd>${when(c.createdAt, now)}</dd>
    <dt>Your role</dt><dd>${roleOn(viewer, id)}</dd></dl>`;

  const kubeNodes = kube.nodes ?? [];
  const nodeTable = html`<table><caption class="muted">Kubernetes nodes (reported by the cluster agent)</caption>
    <thead><tr><th scope="col">Node</th><th scope="col">Ready</th><th scope="col">Kubelet</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">Pods</th></tr></thead>
    <tbody>${kubeNodes.length === 0 ? html`<tr><td colspan="6" class="muted">No node facts reported yet.</td></tr>` : kubeNodes.map((n) => html`<tr>
      <td>${n.name}</td><td>${n.conditions?.find((x) => x.type === 'Ready')?.status ?? 'Unknown'}</td><td>${n.kubeletVersion ?? '-'}</td>
      <td>${n.allocatable?.cpu ?? '-'}</td><td>${n.allocatable?.memory ?? '-'}</td><td>${n.allocatable?.pods ?? '-'}</td></tr>`)}</tbody></table>`;

  const droverNodes = html`<table><caption class="muted">Drover nodes and agents (connection: current tunnel sessions; earlier ones under Connection history)</caption>
    <thead><tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Last seen</th><th scope="col">Agent roles</th><th scope="col">Connected since</th></tr></thead>
    <tbody>${nodes.length === 0 ? html`<tr><td colspan="5" class="muted">No node registered.</td></tr>` : nodes.map((n) => {
      const a = agentRows.find((x) => x.id === n.agentId);
      const since = a?.sessions.map((s) => html`<div>${s.role}: ${when(s.since, now)} <span class="muted mono">${s.remoteAddress}</span></div>`) ?? [];
      return html`<tr><td>${n.name}<div class="muted mono">${n.id}</div></td><td>${badge(n.state)}</td><td>${when(n.lastSeen, now)}</td>
        <td>${n.roles.join(', ') || '-'}</td><td>${since.length > 0 ? since : html`<span class="muted">not connected${n.lastSeen ? html` (last seen ${when(n.lastSeen, now)})` : ''}</span>`}</td></tr>`;
    })}</tbody></table>`;

  const bundles = html`${stackedBar('Bundle readiness on this cluster', summarySegments(f.summary))}
    <p class="muted">${summaryText(f.summary)}${offline && f.bundles.length > 0 ? html` — last reported before the cluster went offline: <span data-testid="last-reported">${await lastReported(deps, id, f.bundles.map((b) => b.name))}</span>` : ''}</p>
    <table><thead><tr><th scope="col">Bundle</th><th scope="col">State</th><th scope="col">Message</th><th scope="col">Revision</th></tr></thead>
    <tbody>${f.bundles.length === 0 ? html`<tr><td colspan="4" class="muted">No bundle targets this cluster.</td></tr>` : f.bundles.map((b) => html`<tr data-bundle="${b.name}">
      <td>${viewer.admin ? html`<a href="/ui/bundles/${encodeURIComponent(b.name)}">${b.name}</a>` : b.name}</td><td>${badge(b.state)}</td><td>${b.message}</td>
      <td class="mono">${(b.appliedRevision ?? b.revision ?? '').slice(0, 12) || '-'}</td></tr>`)}</tbody></table>`;

  const eventList = html`<table><caption class="muted">Bundle status reports from this cluster, newest first</caption>
    <thead><tr><th scope="col">Received</th><th scope="col">Bundle</th><th scope="col">State</th><th scope="col">Message</th></tr></thead>
    <tbody>${events.length === 0 ? html`<tr><td colspan="4" class="muted">No reports yet.</td></tr>` : events.map((e) => html`<tr>
      <td>${when(new Date(e.receivedAt).toISOString(), now)}</td><td>${e.bundle}</td><td>${badge(e.state)}</td><td>${e.message}</td></tr>`)}</tbody></table>
    ${(kube.warnings ?? []).length > 0 ? html`<table><caption class="muted">Recent Kubernetes Warning events</caption>
      <thead><tr><th scope="col">Last seen</th><th scope="col">Object</th><th scope="col">Reason</th><th scope="col">Count</th><th scope="col">Message</th></tr></thead>
      <tbody>${(kube.warnings ?? []).map((w) => html`<tr><td>${when(w.lastSeen ?? null, now)}</td><td>${w.namespace ? `${w.namespace}/${w.object}` : w.object}</td>
        <td>${w.reason ?? '-'}</td><td class="num">${w.count ?? 1}</td><td>${w.message}</td></tr>`)}</tbody></table>` : ''}`;

  const history = html`<table data-testid="connection-history"><caption class="muted">Agent tunnels of this cluster, newest first (kept 30 days, at most 200)</caption>
    <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Agent</th><th scope="col">Reason</th><th scope="col">From</th></tr></thead>
    <tbody>${connections.length === 0 ? html`<tr><td colspan="5" class="muted">No connections recorded yet.</td></tr>` : connections.map((e) => html`<tr data-kind="${e.kind}">
      <td>${when(new Date(e.at).toISOString(), now)}</td><td>${e.kind === 'connect' ? 'Connected' : 'Disconnected'}</td>
      <td>${hostOf.get(e.agentId) ?? e.agentId} <span class="muted">(${e.role})</span></td><td>${e.reason}</td><td class="mono">${e.remote ?? '-'}</td></tr>`)}</tbody></table>`;

  const main: Html = html`<p><a href="/ui/clusters">← Clusters</a></p><h1>${c.name}</h1>
  ${offline ? html`<p class="notice" role="status" data-testid="offline-notice">Offline since ${when(c.lastSeen, now)} (${c.lastSeen ?? 'never seen'}). Everything below is the last-known state.</p>` : ''}
  <div class="grid"><section class="card" aria-labelledby="facts-h"><h2 id="facts-h">Facts</h2>${facts}</section>
  <section class="card" aria-labelledby="kc-h"><h2 id="kc-h">Access</h2>
    <p>A kubeconfig that reaches this cluster through the server as ${viewer.principal.user}${viewer.principal.idp === 'local' ? ' (with a new API token, 30 days)' : ''}.</p>
    <form method="post" action="/ui/clusters/${encodeURIComponent(c.id)}/kubeconfig"><input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit">Download kubeconfig</button></form></section></div>
  <section aria-labelledby="bundles-h"><h2 id="bundles-h">Bundles</h2>${bundles}</section>
  <section aria-labelledby="nodes-h"><h2 id="nodes-h">Nodes</h2>${nodeTable}${droverNodes}</section>
  <section aria-labelledby="events-h"><h2 id="events-h">Recent events</h2>${eventList}</section>
  <section aria-labelledby="conn-h"><h2 id="conn-h">Connection history</h2>${history}</section>`;
  return { title: c.name, nav: 'clusters', main, live: liveUrl(`/ui/clusters/${encodeURIComponent(id)}`) };
}
