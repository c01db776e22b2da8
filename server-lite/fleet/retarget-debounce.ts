// When to render bundles again after clusters, labels or groups changed: once the fingerprint has
// held still for one check (a burst of registrations is one re-render, not one per check), but
// never later than `maxDelayMs` after the first change seen (a steady stream of enrollments still
// gets its bundles). Pure; the fleet service calls it on every check.

export interface RetargetState {
  /** The fingerprint bundles were last rendered for (undefined: not known yet). */
  rendered: string | undefined;
  /** The fingerprint seen at the previous check. */
  lastSeen: string | undefined;
  /** When a fingerprint different from `rendered` was first seen (undefined: none pending). */
  pendingSince: number | undefined;
}

export function retargetDecision(s: RetargetState, fingerprint: string, now: number, maxDelayMs: number): { retarget: boolean; next: RetargetState } {
  if (fingerprint === s.rendered) return { retarget: false, next: { rendered: s.rendered, lastSeen: fingerprint, pendingSince: undefined } };
  const pendingSince = s.pendingSince ?? now;
  const settled = fingerprint === s.lastSeen;
  if (settled || now - pendingSince >= maxDelayMs) return { retarget: true, next: { rendered: fingerprint, lastSeen: fingerprint, pendingSince: undefined } };
  return { retarget: false, next: { rendered: s.rendered, lastSeen: fingerprint, pendingSince } };
}
