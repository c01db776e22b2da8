// The clusters page's query (pure): filter by label selector (Kubernetes selector text, as
// `kubectl -l` and `drover clustergroup create --selector` take), state and a name/id search, sort
// and paginate. One pass over the clusters and one sort, so 10,000 clusters stay well within the
// page budget (bench/dashboard.ts).
import { matchesSelector, parseSelectorString } from '../fleet/label-selector.ts';
import type { LabelSelector } from '../fleet/fleet-yaml.ts';
import { STATES, type HealthState } from '../health.ts';
import type { ClusterView } from '../views.ts';

export const SORT_KEYS = ['name', 'state', 'lastSeen', 'kubernetesVersion'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export const PAGE_SIZES = [25, 50, 100, 200] as const;
export const DEFAULT_PAGE_SIZE = 50;

export interface ClusterQuery {
  selector: string;
  state: HealthState | '';
  search: string;
  sort: SortKey;
  desc: boolean;
  page: number;
  perPage: number;
}

export interface ClusterPage {
  rows: ClusterView[];
  /** Clusters matching the filter. */
  total: number;
  page: number;
  pages: number;
  /** Clusters per state among those matching the selector and search (before the state filter). */
  counts: Record<HealthState, number>;
  /** Why the selector was ignored, when it did not parse. */
  selectorError?: string;
}

const int = (text: string | null, fallback: number, min: number, max: number): number => {
  const n = Number(text);
  return text !== null && /^\d{1,9}$/.test(text) ? Math.min(max, Math.max(min, n)) : fallback;
};

export function parseClusterQuery(params: URLSearchParams): ClusterQuery {
  const state = params.get('state') ?? '';
  const sort = params.get('sort') ?? 'name';
  const perPage = int(params.get('perPage'), DEFAULT_PAGE_SIZE, 1, 200);
  return {
    selector: (params.get('labels') ?? '').slice(0, 1000).trim(),
    state: (STATES as readonly string[]).includes(state) ? (state as HealthState) : '',
    search: (params.get('q') ?? '').slice(0, 200).trim().toLowerCase(),
    sort: (SORT_KEYS as readonly string[]).includes(sort) ? (sort as SortKey) : 'name',
    desc: params.get('dir') === 'desc',
    page: int(params.get('page'), 1, 1, 1_000_000),
    perPage: (PAGE_SIZES as readonly number[]).includes(perPage) ? perPage : DEFAULT_PAGE_SIZE,
  };
}

/** The query as URL parameters, defaults left out (links keep the filter when sorting or paging). */
export function queryString(q: ClusterQuery, change: Partial<ClusterQuery> = {}): string {
  const v = { ...q, ...change };
  const p = new URLSearchParams();
  if (v.selector) p.set('labels', v.selector);
  if (v.state) p.set('state', v.state);
  if (v.search) p.set('q', v.search);
  if (v.sort !== 'name') p.set('sort', v.sort);
  if (v.desc) p.set('dir', 'desc');
  if (v.perPage !== DEFAULT_PAGE_SIZE) p.set('perPage', String(v.perPage));
  if (v.page > 1) p.set('page', String(v.page));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const STATE_ORDER: Record<HealthState, number> = { Offline: 0, Stale: 1, Connected: 2 };

function compare(key: SortKey): (a: ClusterView, b: ClusterView) => number {
  const text = (x: string | null, y: string | null): number => (x ?? '').localeCompare(y ?? '') ;
  switch (key) {
    case 'name':
      return (a, b) => text(a.name, b.name) || text(a.id, b.id);
    case 'state':
      return (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || text(a.name, b.name);
    case 'lastSeen':
      // ISO strings sort as times; never seen sorts first (oldest).
      return (a, b) => text(a.lastSeen, b.lastSeen) || text(a.name, b.name);
    case 'kubernetesVersion':
      return (a, b) => (a.kubernetesVersion ?? '').localeCompare(b.kubernetesVersion ?? '', undefined, { numeric: true }) || text(a.name, b.name);
    default: {
      const never: never = key;
      throw new Error(`unknown sort key ${String(never)}`);
    }
  }
}

export function queryClusters(all: readonly ClusterView[], q: ClusterQuery): ClusterPage {
  let selector: LabelSelector | undefined;
  let selectorError: string | undefined;
  if (q.selector) {
    try {
      selector = parseSelectorString(q.selector);
    } catch (err) {
      selectorError = err instanceof Error ? err.message : String(err);
    }
  }
  const counts: Record<HealthState, number> = { Connected: 0, Stale: 0, Offline: 0 };
  const rows: ClusterView[] = [];
  for (const c of all) {
    if (selector && !matchesSelector(selector, c.labels)) continue;
    if (q.search && !c.name.toLowerCase().includes(q.search) && !c.id.toLowerCase().includes(q.search)) continue;
    counts[c.state] += 1;
    if (q.state && c.state !== q.state) continue;
    rows.push(c);
  }
  const cmp = compare(q.sort);
  rows.sort(q.desc ? (a, b) => cmp(b, a) : cmp);
  const pages = Math.max(1, Math.ceil(rows.length / q.perPage));
  const page = Math.min(q.page, pages);
  const out: ClusterPage = { rows: rows.slice((page - 1) * q.perPage, page * q.perPage), total: rows.length, page, pages, counts };
  if (selectorError !== undefined) out.selectorError = selectorError;
  return out;
}
