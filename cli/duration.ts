// Durations as people and Fleet's YAML write them (pure): `90s`, `15m`, `1h30m`, `7d`, Go's `1m30s`
// and `500ms` (rounded up to a second). Every CLI flag and file field that takes a duration reads it
// here; each caller adds its own bounds and message.

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Whole seconds, or undefined when `text` is not a duration. `bareSeconds`: a plain number is
 * seconds; `units`: the units a flag accepts (default all).
 */
export function durationSeconds(text: string, opts: { bareSeconds?: boolean; units?: readonly string[] } = {}): number | undefined {
  const t = text.trim();
  if (opts.bareSeconds && /^\d+$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) return undefined;
  if (opts.units && parts.some((p) => !opts.units?.includes(p[2] ?? ''))) return undefined;
  return Math.ceil(parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_SECONDS[p[2] ?? 's'] ?? 1), 0));
}
