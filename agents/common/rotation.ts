// When to rotate the agent credential. Pure. Rotation only ever happens while connected
// (issue 4): a credential never expires silently while the device is offline, so an agent back
// after a year still authenticates, then rotates at once because it is past half its lifetime.

/** True once `fraction` of the credential's lifetime has passed; never for non-expiring ones. */
export function rotationDue(issuedAtIso: string, expiresAtIso: string | null, nowMs: number, fraction: number): boolean {
  if (expiresAtIso === null) return false;
  const issued = Date.parse(issuedAtIso);
  const expires = Date.parse(expiresAtIso);
  if (Number.isNaN(issued) || Number.isNaN(expires) || expires <= issued) return true;
  return nowMs >= issued + (expires - issued) * fraction;
}
