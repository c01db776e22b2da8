// Kubernetes resource quantities (`500m`, `0.5`, `1Gi`, `1024Mi`, `1e3`): the apiserver stores
// them in canonical form, so a manifest's `cpu: 0.5` reads back as `500m`. Drift compares such
// values by amount, or a correct object would be reported (and re-applied) forever.

const SUFFIX: Readonly<Record<string, number>> = Object.freeze({
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
});

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** The amount a quantity string or number stands for, or undefined when it is not one. */
export function parseQuantity(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = QUANTITY.exec(v.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2] !== undefined) return base * 10 ** Number(m[2].slice(1));
  return base * SUFFIX[m[3] ?? '']!;
}

/** Same amount, within floating-point noise (quantities have at most nano precision). */
export function sameQuantity(a: unknown, b: unknown): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return false;
  return Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 1e-12;
}

/** Where quantities live in the built-in kinds: resources.{limits,requests}, quota hard, capacity. */
export function isQuantityPath(path: readonly (string | number)[]): boolean {
  return path.some((p) => p === 'limits' || p === 'requests' || p === 'hard' || p === 'capacity' || p === 'overhead');
}
