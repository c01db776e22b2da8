// The dashboard's read pages by path: used for GET requests and, with the same viewer, by the
// events stream that keeps an open page live (events.ts).
import { ServerError } from '../../errors.ts';
import type { Page } from '../layout.ts';
import { canAdminister, type Viewer } from '../viewer.ts';
import type { UiDeps } from './deps.ts';
import { clustersPage } from './clusters.ts';
import { clusterPage } from './cluster.ts';
import { bundlePage, bundlesPage } from './bundles.ts';
import { gitReposPage } from './gitrepos.ts';
import { auditPage } from './audit.ts';
import { tokensPage } from './tokens.ts';
import { planPage, plansPage } from './plans.ts';
import { upgradesPage } from './upgrades.ts';

const segment = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ServerError('NOT_FOUND', 'malformed percent-encoding in the path');
  }
};

function adminOnly(v: Viewer, page: string): void {
  if (!canAdminister(v)) throw new ServerError('FORBIDDEN', `user ${v.principal.user} has the global role ${v.principal.globalRole}; the ${page} page needs admin`);
}

/** The page at url for this viewer; throws ServerError NOT_FOUND / FORBIDDEN like the API. */
export async function renderPage(deps: UiDeps, viewer: Viewer, url: URL): Promise<Page> {
  const p = url.pathname;
  if (p === '/ui/clusters') return clustersPage(deps, viewer, url);
  let m = /^\/ui\/clusters\/([^/]+)$/.exec(p);
  if (m) return clusterPage(deps, viewer, segment(m[1] ?? ''));
  if (p === '/ui/tokens') return tokensPage(deps, viewer);
  if (p === '/ui/bundles') {
    adminOnly(viewer, 'bundles');
    return bundlesPage(deps);
  }
  m = /^\/ui\/bundles\/([^/]+)$/.exec(p);
  if (m) {
    adminOnly(viewer, 'bundles');
    return bundlePage(deps, segment(m[1] ?? ''));
  }
  if (p === '/ui/gitrepos') {
    adminOnly(viewer, 'git repos');
    return gitReposPage(deps);
  }
  if (p === '/ui/plans') return plansPage(deps, viewer);
  m = /^\/ui\/plans\/([^/]+)$/.exec(p);
  if (m) return planPage(deps, viewer, segment(m[1] ?? ''));
  if (p === '/ui/upgrades') {
    adminOnly(viewer, 'upgrades');
    return upgradesPage(deps);
  }
  if (p === '/ui/audit') {
    adminOnly(viewer, 'audit');
    return auditPage(deps, url);
  }
  throw new ServerError('NOT_FOUND', `no dashboard page ${p}`);
}
