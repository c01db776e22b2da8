// LDAP search filters built from untrusted input (pure). RFC 4515 §3: in an assertion value the
// characters `*`, `(`, `)`, `\` and NUL must be written as `\2a`, `\28`, `\29`, `\5c`, `\00`; we
// also escape every non-printable-ASCII byte, so a user name such as `*)(uid=*` becomes one literal
// value and can never widen the search to other entries. DNs in filters (group membership) get the
// same treatment. Attribute names are checked against RFC 4512's descr form instead of escaped.

const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;

/** Escapes a value for an equality assertion (RFC 4515 §3). */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x2a && byte !== 0x28 && byte !== 0x29 && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function isAttributeName(name: string): boolean {
  return ATTRIBUTE.test(name);
}

/** `(attr=value)` with the value escaped; throws for an attribute name that is not a descr. */
export function equalityFilter(attribute: string, value: string): string {
  if (!isAttributeName(attribute)) throw new Error(`not an LDAP attribute name: ${attribute.slice(0, 80)}`);
  return `(${attribute}=${escapeFilterValue(value)})`;
}

/** `(&f1 f2 …)`, or the single filter when there is one. Parts must already be filters. */
export function and(...parts: string[]): string {
  const kept = parts.filter((p) => p !== '');
  return kept.length === 1 ? (kept[0] ?? '') : `(&${kept.join('')})`;
}
