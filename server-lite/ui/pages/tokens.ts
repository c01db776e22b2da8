// /ui/tokens: the viewer's own API tokens (create, with the secret shown once and a copy button;
// revoke), and for admins the join tokens devices register with (create, revoke), with the API's
// rules: tokens via api/user-api.ts's mint, join tokens via api/admin-api.ts's createJoinToken.
import { html, type Html } from '../html.ts';
import type { Page } from '../layout.ts';
import { badge, labelList, when } from '../format.ts';
import type { Viewer } from '../viewer.ts';
import type { UiDeps } from './deps.ts';
import { tokenView as joinTokenView } from '../../views.ts';

/** Lifetimes offered (seconds; 0 = never expires), as `--ttl` takes them on the command line. */
export const TTL_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 86_400, label: '1 day' },
  { seconds: 30 * 86_400, label: '30 days' },
  { seconds: 90 * 86_400, label: '90 days' },
  { seconds: 0, label: 'never expires' },
];

export interface Created {
  kind: 'api' | 'join';
  id: string;
  token: string;
}

function revealed(c: Created): Html {
  const what = c.kind === 'api' ? 'API token' : 'join token';
  return html`<section class="card" aria-labelledby="new-h" data-testid="new-token"><h2 id="new-h">New ${what} ${c.id}</h2>
    <p>Copy it now: the server keeps only its hash and cannot show it again.</p>
    <div class="secret"><label for="new-secret" class="muted">Token</label><input id="new-secret" readonly value="${c.token}">
    <button type="button" data-copy="new-secret">Copy</button></div></section>`;
}

function ttlSelect(id: string): Html {
  return html`<label for="${id}">Lifetime<select id="${id}" name="ttlSeconds">${TTL_CHOICES.map((c) => html`<option value="${c.seconds}"${c.seconds === 30 * 86_400 ? html` selected` : ''}>${c.label}</option>`)}</select></label>`;
}

export async function tokensPage(deps: UiDeps, viewer: Viewer, opts: { created?: Created; error?: string } = {}): Promise<Page> {
  const { ctx } = deps;
  const now = ctx.clock.now();
  const hasUser = viewer.principal.idp === 'local' || (await ctx.store.getUser(viewer.principal.user)) !== undefined;
  const mine = hasUser ? await ctx.store.listUserTokens(viewer.principal.user) : [];
  const csrf = html`<input type="hidden" name="csrf" value="${viewer.csrf}">`;
  const apiState = (t: (typeof mine)[number]): string => (t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active');
  const apiSection = hasUser
    ? html`<section aria-labelledby="api-h"><h2 id="api-h">Your API tokens</h2>
      <form class="filters" method="post" action="/ui/tokens/api">${csrf}
        <label for="api-desc">Description<input id="api-desc" name="description" maxlength="200" placeholder="CI pipeline"></label>${ttlSelect('api-ttl')}
        <button type="submit">Create API token</button></form>
      <table><thead><tr><th scope="col">Id</th><th scope="col">Description</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
      <tbody>${mine.map((t) => html`<tr data-token="${t.id}" data-state="${apiState(t)}"><td class="mono">${t.id}</td><td>${t.description}</td><td>${badge(apiState(t))}</td>
        <td>${when(new Date(t.createdAt).toISOString(), now)}</td><td>${t.expiresAt === null ? 'never' : new Date(t.expiresAt).toISOString()}</td>
        <td>${apiState(t) === 'active' && t.id !== viewer.principal.tokenId ? html`<form class="inline" method="post" action="/ui/tokens/api/${t.id}/revoke">${csrf}<button type="submit" class="danger" aria-label="Revoke API token ${t.id}">Revoke</button></form>` : t.id === viewer.principal.tokenId ? html`<span class="muted">this session</span>` : ''}</td></tr>`)}</tbody></table></section>`
    : html`<p class="muted">You are signed in with the admin token, which has no user account and no API tokens of its own.</p>`;
  let joinSection: Html = html``;
  if (viewer.admin) {
    const joins = (await ctx.store.listTokens()).map((t) => joinTokenView(t, now));
    joinSection = html`<section aria-labelledby="join-h"><h2 id="join-h">Join tokens</h2>
      <p class="muted">Devices register with a join token: <code>drover agent register --server URL --token TOKEN</code>.</p>
      <form class="filters" method="post" action="/ui/tokens/join">${csrf}${ttlSelect('join-ttl')}
        <label for="join-uses">Uses (0 = unlimited)<input id="join-uses" name="uses" type="number" min="0" max="1000000" value="1"></label>
        <label for="join-labels">Labels for the new cluster<input id="join-labels" name="labels" placeholder="env=prod,site=berlin"></label>
        <label for="join-cluster">or existing cluster id<input id="join-cluster" name="clusterId" placeholder="c-…"></label>
        <button type="submit">Create join token</button></form>
      <table><thead><tr><th scope="col">Id</th><th scope="col">State</th><th scope="col">Uses</th><th scope="col">Scope</th><th scope="col">Expires</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
      <tbody>${joins.length === 0 ? html`<tr><td colspan="6" class="muted">No join tokens.</td></tr>` : joins.map((t) => html`<tr data-token="${t.id}" data-state="${t.state}"><td class="mono">${t.id}</td><td>${badge(t.state)}</td>
        <td>${t.uses} of ${t.usesMax === 0 ? 'unlimited' : t.usesMax}</td><td>${t.clusterId ? html`cluster <span class="mono">${t.clusterId}</span>` : labelList(t.labels)}</td><td>${t.expiresAt ?? 'never'}</td>
        <td>${t.state === 'active' ? html`<form class="inline" method="post" action="/ui/tokens/join/${t.id}/revoke">${csrf}<button type="submit" class="danger" aria-label="Revoke join token ${t.id}">Revoke</button></form>` : ''}</td></tr>`)}</tbody></table></section>`;
  }
  const main = html`<h1>Tokens</h1>
    ${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
    ${opts.created ? revealed(opts.created) : ''}${apiSection}${joinSection}`;
  return { title: 'Tokens', nav: 'tokens', main, status: opts.error ? 400 : opts.created ? 201 : 200 };
}
