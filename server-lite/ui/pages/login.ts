// /ui/login: sign in with a local user's password or with an API token (or the admin token);
// other identity providers (OIDC, LDAP) appear here when configured (UiDeps.loginProviders).
import { html } from '../html.ts';
import type { Page } from '../layout.ts';
import type { UiDeps } from './deps.ts';

export function loginPage(deps: UiDeps, opts: { error?: string; next?: string } = {}): Page {
  const providers = deps.loginProviders?.() ?? [];
  const next = opts.next && /^\/ui\/[^/]/.test(opts.next) ? opts.next : '/ui/clusters';
  const main = html`<div class="login"><h1>Sign in to Drover</h1>
  ${opts.error ? html`<p class="alert" role="alert">${opts.error}</p>` : ''}
  <form class="stack card" method="post" action="/ui/login" aria-labelledby="pw-h"><h2 id="pw-h">Local user</h2>
    <input type="hidden" name="next" value="${next}">
    <label for="username">User name<input id="username" name="username" autocomplete="username" required maxlength="64"></label>
    <label for="password">Password<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
    <button type="submit">Sign in</button></form>
  <form class="stack card" method="post" action="/ui/login" aria-labelledby="tok-h"><h2 id="tok-h">API token</h2>
    <input type="hidden" name="next" value="${next}">
    <label for="token">Token (an API token, or the server's admin token)<input id="token" name="token" type="password" autocomplete="off" required maxlength="512"></label>
    <button type="submit">Sign in with token</button></form>
  ${providers.length > 0 ? html`<div class="card"><h2>Other sign-in</h2>${providers.map((p) => html`<p><a href="${p.href}">Sign in with ${p.label}</a></p>`)}</div>` : ''}
  </div>`;
  return { title: 'Sign in', nav: 'login', main, status: opts.error ? 401 : 200 };
}
