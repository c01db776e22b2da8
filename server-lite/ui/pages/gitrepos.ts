// /ui/gitrepos (admins, as /v1/gitrepos): each polled repository with its last commit, when it
// was polled, its error if the last poll or render failed, and the bundles it produced.
import { html } from '../html.ts';
import { liveUrl, type Page } from '../layout.ts';
import { badge, when } from '../format.ts';
import type { UiDeps } from './deps.ts';

export async function gitReposPage(deps: UiDeps): Promise<Page> {
  const now = deps.ctx.clock.now();
  const bundles = await deps.fleet.store.bundles();
  const states = new Map((await deps.fleet.manager.list()).map((b) => [b.name, b.state]));
  const repos = await deps.fleet.store.gitRepos();
  const main = html`<h1>Git repos</h1>
  <table><thead><tr><th scope="col">Name</th><th scope="col">Repository</th><th scope="col">Branch / revision</th><th scope="col">Last commit</th><th scope="col">Polled</th><th scope="col">Error</th><th scope="col">Bundles</th></tr></thead>
  <tbody>${repos.length === 0 ? html`<tr><td colspan="7" class="muted">No git repos (drover gitrepo add, or drover apply -f gitrepo.yaml).</td></tr>` : repos.map((g) => {
    const own = bundles.filter((b) => b.source === `git:${g.name}`).map((b) => b.name);
    return html`<tr data-gitrepo="${g.name}"><td>${g.name}</td><td class="mono">${g.spec.repo}</td><td>${g.spec.revision ?? g.spec.branch ?? 'default branch'}</td>
      <td class="mono">${g.commit ? g.commit.slice(0, 12) : html`<span class="muted">none yet</span>`}</td><td>${when(g.polledAt === null ? null : new Date(g.polledAt).toISOString(), now)}</td>
      <td>${g.error ? html`<span class="error">${g.error}</span>` : html`<span class="muted">none</span>`}</td>
      <td>${own.length === 0 ? html`<span class="muted">none</span>` : own.map((b) => html`<div><a href="/ui/bundles/${encodeURIComponent(b)}">${b}</a> ${badge(states.get(b) ?? 'Pending')}</div>`)}</td></tr>`;
  })}</tbody></table>`;
  return { title: 'Git repos', nav: 'gitrepos', main, live: liveUrl('/ui/gitrepos') };
}
