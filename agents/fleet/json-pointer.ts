// RFC 6901 JSON pointers and the three JSON-patch operations comparePatches use, on plain JSON.
// Operations on a path that does not exist are no-ops: a patch written for one chart version must
// not fail the comparison of another.

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer must start with '/': ${pointer}`);
  return pointer.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function joinPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** True when `pointer` equals `prefix` or lies under it. */
export function isUnder(pointer: string, prefix: string): boolean {
  return pointer === prefix || pointer.startsWith(`${prefix}/`);
}

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null;

function parentOf(doc: unknown, tokens: string[]): { parent: Container; last: string } | undefined {
  if (tokens.length === 0) return undefined;
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (!isContainer(cur)) return undefined;
    cur = Array.isArray(cur) ? cur[Number(t)] : cur[t];
  }
  return isContainer(cur) ? { parent: cur, last: tokens[tokens.length - 1]! } : undefined;
}

/** Applies one operation in place (on a clone the caller owns): `remove`, `add`, anything else as `replace`. */
export function applyOperation(doc: unknown, op: { op: string; path: string; value?: unknown }): void {
  const at = parentOf(doc, parsePointer(op.path));
  if (!at) return;
  const { parent, last } = at;
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) return;
    if (op.op === 'remove') { if (i < parent.length) parent.splice(i, 1); }
    else if (op.op === 'add') parent.splice(i, 0, structuredClone(op.value));
    else if (i < parent.length) parent[i] = structuredClone(op.value);
    return;
  }
  if (op.op === 'remove') delete parent[last];
  else if (op.op === 'add' || Object.hasOwn(parent, last)) parent[last] = structuredClone(op.value);
}
