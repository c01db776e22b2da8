// The page shell: header with navigation (only the pages the viewer may use), the live region
// that server-sent events refresh, and the security headers every dashboard answer carries.
import type { ServerResponse } from 'node:http';
import { html, type Html } from './html.ts';
import { ASSETS } from './assets.ts';
import type { Viewer } from './viewer.ts';

export type NavKey = 'clusters' | 'bundles' | 'gitrepos' | 'plans' | 'upgrades' | 'audit' | 'tokens' | 'login' | 'none';

export interface Page {
  title: string;
  nav: NavKey;
  main: Html;
  /** The events URL that refreshes `main` while the page is open (read pages only). */
  live?: string | undefined;
  status?: number;
}

/** No inline script or style, nothing from elsewhere, no framing, forms post only here. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The events URL that keeps a page live (events.ts renders that page again for the same viewer). */
export const liveUrl = (pathAndQuery: string): string => `/ui/events?page=${encodeURIComponent(pathAndQuery)}`;

export function securityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('strict-transport-security', 'max-age=31536000');
  res.setHeader('cache-control', 'no-store');
}

const NAV: { key: NavKey; href: string; label: string; admin: boolean }[] = [
  { key: 'clusters', href: '/ui/clusters', label: 'Clusters', admin: false },
  { key: 'bundles', href: '/ui/bundles', label: 'Bundles', admin: true },
  { key: 'gitrepos', href: '/ui/gitrepos', label: 'Git repos', admin: true },
  { key: 'plans', href: '/ui/plans', label: 'Plans', admin: false },
  { key: 'upgrades', href: '/ui/upgrades', label: 'Upgrades', admin: true },
  { key: 'audit', href: '/ui/audit', label: 'Audit', admin: true },
  { key: 'tokens', href: '/ui/tokens', label: 'Tokens', admin: false },
];

export function layout(viewer: Viewer | undefined, page: Page): string {
  const nav = viewer
    ? html`<nav aria-label="Main"><ul>${NAV.filter((n) => !n.admin || viewer.admin).map((n) => html`<li><a href="${n.href}"${n.key === page.nav ? html` aria-current="page"` : ''}>${n.label}</a></li>`)}</ul></nav>
      <div class="who"><span>Signed in as <strong data-testid="user">${viewer.principal.user}</strong> (${viewer.admin ? 'admin' : 'user'})</span>
      <form class="inline" method="post" action="/ui/logout"><input type="hidden" name="csrf" value="${viewer.csrf}"><button type="submit">Log out</button></form></div>`
    : '';
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Drover</title><link rel="stylesheet" href="${ASSETS.css.url}"><script src="${ASSETS.js.url}" defer></script></head>
<body><a class="skip" href="#live">Skip to content</a><header><a class="brand" href="/ui/">Drover</a>${nav}</header>
<main id="live"${page.live ? html` data-live="${page.live}"` : ''}>${page.main}</main></body></html>`.text}`;
}
