// The capability registry: optional features a peer advertises in its HELLO. A feature is used
// only when both sides advertised it (`Session.has`). Append-only: a wire number is never reused,
// renamed or removed; each entry notes the protocol version it arrived in (SPEC.md §5).

export interface CapabilityInfo {
  /** Wire number, u16, unique forever. */
  readonly wire: number;
  /** Protocol version (`major.minor`) that introduced it. */
  readonly since: string;
  readonly description: string;
}

export const CAPABILITIES = Object.freeze({
  HTTP_STREAMS: { wire: 1, since: '1.0', description: 'Serves streams whose target starts with `http:` as one HTTP/1.1 exchange each (with upgrades).' },
  TCP_STREAMS: { wire: 2, since: '1.0', description: 'Serves streams whose target is `tcp:HOST:PORT` as a raw byte pipe to that address.' },
  CONTROL_ERRORS: { wire: 3, since: '1.0', description: 'Refused control messages (invalid body, unknown required kind) are answered with an `error` message; without it on both sides they are dropped silently (SPEC.md §7).' },
  FLEET_DELTA: { wire: 4, since: '1.1', description: 'On `http:drover-fleet`, the server may send a desired deployment as a delta against the revision the agent holds; the agent rebuilds and checks it (decision 0755). Without it on both sides, whole sets only.' },
  HTTP_KEEPALIVE: { wire: 5, since: '1.2', description: 'An `http:` stream opened with metadata `drover-keepalive: 1` carries one exchange after another until the opener closes it; the receiver never closes it idle. On `http:kube-apiserver` the caller comes per request from `X-Drover-User`/`X-Drover-Groups` (decision 1200). Without it on both sides, one exchange per stream.' },
} as const satisfies Record<string, CapabilityInfo>);

export type CapabilityName = keyof typeof CAPABILITIES;

const byWire = new Map<number, CapabilityName>();
for (const [name, info] of Object.entries(CAPABILITIES)) byWire.set(info.wire, name as CapabilityName);

/** The name for a wire number, or undefined for a capability from a newer peer (kept, unused). */
export function capabilityFromWire(wire: number): CapabilityName | undefined {
  return byWire.get(wire);
}

/** Every capability this build implements: advertised by default. */
export function defaultCapabilities(): number[] {
  return Object.values(CAPABILITIES).map((c) => c.wire);
}

/**
 * What a session advertises: `base` (default: all registered) minus `mask`. Masking lets tests and
 * operators run the old-peer paths (a new agent against a server without a feature).
 */
export function advertisedCapabilities(base: readonly number[] = defaultCapabilities(), mask: readonly (number | CapabilityName)[] = []): number[] {
  const masked = new Set(mask.map((m) => (typeof m === 'number' ? m : CAPABILITIES[m].wire)));
  return [...new Set(base)].filter((w) => !masked.has(w)).sort((a, b) => a - b);
}

/** Capabilities both sides advertised. */
export function commonCapabilities(local: readonly number[], remote: readonly number[]): Set<number> {
  const r = new Set(remote);
  return new Set(local.filter((w) => r.has(w)));
}
