// How a fleet manifest set is named, shared by the server (which renders and names it) and the
// agent (which rebuilds a set from a delta and must arrive at the same name): object keys sorted at
// every level (canonical JSON), sha256 per object, and the revision as the sha256 over the sorted
// `id sha256` lines. Pure; the hash is the only non-stream built-in used.
import { createHash } from 'node:crypto';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted at every level: the form every hash is taken over. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The revision of a set from its entries, which must be sorted by id. */
export function manifestRevision(entries: readonly { id: string; sha256: string }[]): string {
  return sha256Hex(entries.map((e) => `${e.id} ${e.sha256}\n`).join(''));
}
