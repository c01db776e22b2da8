// Every limit and timeout of the fleet agent, in one place, each with the reason for its value.
// Callers may override most of them through options; these are the defaults.

export const FLEET_AGENT_LIMITS = Object.freeze({
  /** Status rows kept in the outbox before superseded rows are coalesced (one deployment's older
   *  statuses are dropped, its latest never). Sized for days offline at one change a minute. */
  OUTBOX_MAX_ROWS: 10_000,
  /** Rows handed to one drain call: keeps a tunnel message well under the protocol frame limit. */
  OUTBOX_DRAIN_BATCH: 200,
  /** Objects in one deployment's manifest set; beyond it the bundle is refused, not half-applied. */
  MAX_OBJECTS_PER_DEPLOYMENT: 5_000,
  /** Differing field paths kept per object in a Modified status, so one status stays small. */
  MAX_DIFF_FIELDS_PER_OBJECT: 20,
  /** Objects listed in one status's nonReady and modified lists (the message gives the totals):
   *  a 5 000-object bundle going NotReady must not make a status the size of the bundle. */
  MAX_STATUS_OBJECTS: 50,
  /** Default pause between two reconcile passes: Fleet's agent re-checks drift on a similar cadence. */
  RECONCILE_INTERVAL_MS: 15_000,
  /** How long an apply waits for a CRD it just applied to report Established before failing. */
  CRD_ESTABLISHED_TIMEOUT_MS: 30_000,
  /** Poll period while waiting for a CRD to be Established. */
  CRD_POLL_MS: 100,
  /** One Kubernetes API request; a stuck apiserver must not stall the loop forever. */
  KUBE_REQUEST_TIMEOUT_MS: 15_000,
  /** Live objects fetched in parallel during a reconcile pass: bounded so a 500-object pass does
   *  not open 500 sockets against an apiserver that has just come back. */
  KUBE_CONCURRENCY: 16,
  /** Objects of one kind in one namespace from which a pass LISTs instead of GETting each: 500
   *  ConfigMaps become one request (paged), a lone Deployment stays a GET. */
  LIST_THRESHOLD: 4,
  /** Page size of those LISTs. */
  LIST_PAGE: 500,
  /** One watch event line: a ConfigMap or Secret is at most 1 MiB of data, JSON adds the rest. */
  WATCH_MAX_EVENT_BYTES: 4 * 1024 * 1024,
  /** The apiserver ends each drift watch after about this long (jittered ±20 %); it is resumed
   *  from the last resourceVersion seen, so this only bounds how long a half-dead socket lives. */
  WATCH_TIMEOUT_S: 300,
  /** Drift events arriving within this long of the first are corrected together: a `kubectl
   *  delete -l …` of 200 objects is one correction, not 200, and 1 s restoration still holds. */
  DRIFT_DEBOUNCE_MS: 100,
  /** Objects drifted in one burst above which the whole deployment is re-read by a pass (LISTs)
   *  instead of each object fetched and re-applied on its own. */
  DRIFT_TARGETED_MAX: 64,
  /** Namespaces of one kind watched one by one; more and the kind is watched in all namespaces
   *  (one request), so a 5 000-object bundle spread over many namespaces holds few watches. */
  WATCH_MAX_NAMESPACES_PER_KIND: 8,
  /** Bytes read from one Kubernetes API response; anything larger is refused. */
  KUBE_MAX_RESPONSE_BYTES: 64 * 1024 * 1024,
} as const);

/** The field manager of every server-side apply, as Fleet's `fleet-agent` is for Fleet. */
export const FIELD_MANAGER = 'drover';

/** Limits of the fleet role's tunnel endpoint (`http:drover-fleet`, docs/fleet-agent.md). */
export const FLEET_ROLE_LIMITS = Object.freeze({
  /** One desired deployment's request body: the 20 MiB bundles of issue 6 with JSON overhead. */
  MAX_DESIRED_BYTES: 96 * 1024 * 1024,
  /** A small request (acknowledgement, removal). */
  MAX_SMALL_BYTES: 64 * 1024,
} as const);
