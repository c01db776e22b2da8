// /ui/audit (admins, as /v1/audit): the newest audit rows first, filtered by user, cluster and
// verb, with "older" paging, and a button that verifies the whole hash chain.
import { html } from '../html.ts';
import type { Page } from '../layout.ts';
import { when } from '../format.ts';
import type { UiDeps } from './deps.ts';
import type { AuditRecord } from '../../store/store.ts';
import { verifyAuditChain } from '../../audit/chain-verification.ts';

const PAGE = 50;
const WINDOW = 500;
/** Rows scanned per page view at most, so a rare filter cannot make one page read the whole trail. */
const MAX_SCAN = 20_000;

export interface AuditFilter {
  user: string;
  cluster: string;
  verb: string;
  /** Show rows with seq below this (0: from the newest). */
  before: number;
}

export function parseAuditFilter(p: URLSearchParams): AuditFilter {
  const before = Number(p.get('before') ?? '0');
  return {
    user: (p.get('user') ?? '').trim().slice(0, 100),
    cluster: (p.get('cluster') ?? '').trim().slice(0, 100),
    verb: (p.get('verb') ?? '').trim().toLowerCase().slice(0, 20),
    before: Number.isSafeInteger(before) && before > 0 ? before : 0,
  };
}

export function auditMatches(f: AuditFilter, r: AuditRecord): boolean {
  return (!f.user || r.user === f.user) && (!f.cluster || r.clusterId === f.cluster) && (!f.verb || r.verb === f.verb);
}

export async function auditPage(deps: UiDeps, url: URL): Promise<Page> {
  const { ctx } = deps;
  const now = ctx.clock.now();
  const f = parseAuditFilter(url.searchParams);
  await ctx.audit.flush();
  const head = (await ctx.store.lastAudit())?.seq ?? 0;
  let cursor = f.before > 0 ? Math.min(f.before, head + 1) : head + 1;
  const rows: AuditRecord[] = [];
  let scanned = 0;
  while (cursor > 1 && rows.length < PAGE && scanned < MAX_SCAN) {
    const from = Math.max(0, cursor - 1 - WINDOW);
    const page = await ctx.store.listAudit({ afterSeq: from, limit: cursor - 1 - from });
    scanned += page.length;
    for (const r of page.reverse()) if (r.seq < cursor && auditMatches(f, r) && rows.length < PAGE) rows.push(r);
    cursor = from + 1;
  }
  const older = rows.length === PAGE ? (rows.at(-1)?.seq ?? 0) : cursor > 1 ? cursor : 0;
  const verify = url.searchParams.get('verify') === '1' ? await verifyAuditChain(ctx) : undefined;
  const keep = new URLSearchParams({ ...(f.user ? { user: f.user } : {}), ...(f.cluster ? { cluster: f.cluster } : {}), ...(f.verb ? { verb: f.verb } : {}) });
  const main = html`<h1>Audit</h1>
  <form class="filters" method="get" action="/ui/audit" role="search" aria-label="Filter audit rows">
    <label for="a-user">User<input id="a-user" name="user" value="${f.user}"></label>
    <label for="a-cluster">Cluster id<input id="a-cluster" name="cluster" value="${f.cluster}"></label>
    <label for="a-verb">Verb<input id="a-verb" name="verb" value="${f.verb}" placeholder="get, post, delete…"></label>
    <button type="submit">Filter</button> <a href="/ui/audit">Clear</a></form>
  <form method="get" action="/ui/audit" class="filters"><input type="hidden" name="verify" value="1"><button type="submit" class="secondary">Verify the hash chain</button></form>
  ${verify ? (verify.ok
      ? html`<p class="notice" role="status" data-testid="chain-ok">Chain intact: ${verify.checked} rows checked${verify.head ? html`, head #${verify.head.seq}` : ''}.</p>`
      : html`<p class="alert" role="alert" data-testid="chain-bad">Chain broken at row #${verify.firstBad.seq} (${verify.firstBad.reason}); ${verify.checked} rows before it are intact.</p>`) : ''}
  <table><thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">User</th><th scope="col">Identity provider</th><th scope="col">Cluster</th><th scope="col">Verb</th><th scope="col">Path</th><th scope="col">Status</th></tr></thead>
  <tbody>${rows.length === 0 ? html`<tr><td colspan="8" class="muted">No matching rows${scanned >= MAX_SCAN ? ` in the ${MAX_SCAN} rows searched` : ''}.</td></tr>` : rows.map((r) => html`<tr>
    <td class="num">${r.seq}</td><td>${when(new Date(r.at).toISOString(), now)}</td><td>${r.user}${r.impersonated ? html` <span class="muted">as ${r.impersonated}</span>` : ''}</td><td>${r.idp}</td>
    <td class="mono">${r.clusterId ?? ''}</td><td>${r.verb}</td><td class="mono">${r.path}</td><td class="num">${r.status}</td></tr>`)}</tbody></table>
  ${older > 1 ? html`<nav class="pager" aria-label="Pages"><a rel="next" href="/ui/audit?${new URLSearchParams([...keep, ['before', String(older)]]).toString()}">Older rows →</a></nav>` : ''}`;
  return { title: 'Audit', nav: 'audit', main };
}
