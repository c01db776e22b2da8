// Helm values: Helm's merge rule (maps merge key by key, everything else is replaced) and Fleet's
// cluster templating: `global.fleet.clusterLabels` is always set, and string values may use
// `${ .ClusterName }`, `${ .ClusterLabels.KEY }` or `${ get .ClusterLabels "KEY" }`.
import { FleetError } from './errors.ts';
import type { Labels } from './label-selector.ts';

export type Values = Record<string, unknown>;

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` wins; nested maps merge; arrays and scalars replace (what `helm -f a -f b` does). */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? mergeValues(b, v) : v;
  }
  return out;
}

export interface TemplateContext {
  clusterName: string;
  clusterLabels: Labels;
}

const EXPR = /\$\{\s*([^}]*?)\s*\}/g;

function evaluate(expr: string, ctx: TemplateContext, where: string): string {
  if (expr === '.ClusterName') return ctx.clusterName;
  const dotted = /^\.ClusterLabels\.([A-Za-z0-9_]+)$/.exec(expr);
  const got = /^get\s+\.ClusterLabels\s+"([^"]+)"$/.exec(expr);
  const key = dotted?.[1] ?? got?.[1];
  if (key === undefined) {
    throw new FleetError('FLEET_YAML_SCHEMA', `${where}: unsupported template expression "\${ ${expr} }"; use .ClusterName or .ClusterLabels.KEY`);
  }
  const value = ctx.clusterLabels[key];
  if (value === undefined) {
    throw new FleetError('FLEET_YAML_SCHEMA', `${where}: cluster "${ctx.clusterName}" has no label "${key}" used in "\${ ${expr} }"`);
  }
  return value;
}

/** Substitutes cluster templates in every string of `values` (keys untouched). */
export function templateValues(values: unknown, ctx: TemplateContext, where: string): unknown {
  if (typeof values === 'string') return values.includes('${') ? values.replace(EXPR, (_m, expr: string) => evaluate(expr, ctx, where)) : values;
  if (Array.isArray(values)) return values.map((v) => templateValues(v, ctx, where));
  if (isMap(values)) return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, templateValues(v, ctx, where)]));
  return values;
}

/**
 * The last layer, authoritative like Fleet's: charts read `.Values.global.fleet.clusterLabels.env`.
 * Only labels, not the cluster name: clusters with equal labels then render once (render-bundle.ts);
 * values that need the name say `${ .ClusterName }`.
 */
export function withClusterGlobals(values: Values, ctx: TemplateContext): Values {
  return mergeValues(values, { global: { fleet: { clusterLabels: { ...ctx.clusterLabels } } } });
}
