// /ui/login: sign in with a local user's password, with an API token (or the admin token), or
// through the server's identity providers when configured: a directory (LDAP) user's password, an
// OIDC provider's sign-in page (ui/provider-login.ts).
import { html } from '../html.ts';
import type { Page } from '../layout.ts';
import type { UiDeps } from './deps.ts';
import type { LoginOption } from '../provider-login.ts';

export function loginPage(_deps: UiDeps, opts: { error?: string; next?: string; providers?: readonly LoginOption[] } = {}): Page {
  const providers = opts.providers ?? [];
  const oidc = providers.filter((p) => p.kind === 'oidc');
  const ldap = providers.filter((p) => p.kind === 'ldap');
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
  ${ldap.map((p) => html`<form class="stack card" method="post" action="/ui/login" aria-labelledby="ldap-${p.name}-h"><h2 id="ldap-${p.name}-h">Directory: ${p.name}</h2>
    <input type="hidden" name="next" value="${next}"><input type="hidden" name="provider" value="${p.name}">
    <label for="ldap-${p.name}-user">User name<input id="ldap-${p.name}-user" name="username" autocomplete="username" required maxlength="256"></label>
    <label for="ldap-${p.name}-password">Password<input id="ldap-${p.name}-password" name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
    <button type="submit">Sign in with ${p.name}</button></form>`)}
  ${oidc.length > 0 ? html`<div class="card"><h2>Single sign-on</h2>${oidc.map((p) => html`<p><a href="/ui/login/sso/${p.name}">Sign in with ${p.name}</a></p>`)}</div>` : ''}
  </div>`;
  return { title: 'Sign in', nav: 'login', main, status: opts.error ? 401 : 200 };
}
