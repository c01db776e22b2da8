// Kubernetes label selectors (matchLabels + matchExpressions) evaluated against a cluster's labels.
// Semantics follow k8s.io/apimachinery: all requirements are ANDed; an empty selector matches all;
// NotIn and DoesNotExist match clusters that lack the key.
import { FleetError } from './errors.ts';
import type { LabelSelector } from './fleet-yaml.ts';

export type Labels = Readonly<Record<string, string>>;

/** Refuses the selectors Kubernetes would refuse: In/NotIn need values, Exists/DoesNotExist none. */
export function validateSelector(selector: LabelSelector, where: string): void {
  for (const e of selector.matchExpressions ?? []) {
    const n = e.values?.length ?? 0;
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) {
      throw new FleetError('SELECTOR_INVALID', `${where}: operator ${e.operator} on "${e.key}" needs at least one value`);
    }
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) {
      throw new FleetError('SELECTOR_INVALID', `${where}: operator ${e.operator} on "${e.key}" takes no values`);
    }
  }
}

export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (has && value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default: {
        const never: never = e.operator;
        throw new Error(`unhandled selector operator ${String(never)}`);
      }
    }
  }
  return true;
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

/** Splits on commas outside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/**
 * Kubernetes' selector text (what `kubectl -l` takes, and `drover clustergroup create --selector`):
 * `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by commas.
 */
export function parseSelectorString(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: NonNullable<LabelSelector['matchExpressions']> = [];
  const bad = (part: string, why: string) => new FleetError('SELECTOR_INVALID', `selector "${text}": "${part}" ${why}`);
  for (const part of splitRequirements(text)) {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    const neq = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(part);
    const eq = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(part);
    const key = set?.[1] ?? neq?.[1] ?? eq?.[1] ?? part.replace(/^!\s*/, '');
    if (!KEY.test(key)) throw bad(part, 'is not a valid requirement (key=value, key!=value, key in (a,b), key notin (a,b), key, !key)');
    if (set) {
      const values = (set[3] ?? '').split(',').map((v) => v.trim()).filter(Boolean);
      if (values.length === 0) throw bad(part, 'needs at least one value');
      matchExpressions.push({ key, operator: set[2] === 'in' ? 'In' : 'NotIn', values });
    } else if (neq) {
      matchExpressions.push({ key, operator: 'NotIn', values: [neq[2] ?? ''] });
    } else if (eq) {
      matchLabels[key] = eq[2] ?? '';
    } else {
      matchExpressions.push({ key, operator: part.startsWith('!') ? 'DoesNotExist' : 'Exists' });
    }
  }
  return matchExpressions.length > 0 ? { matchLabels, matchExpressions } : { matchLabels };
}

/** A selector as Kubernetes' selector text (the inverse of parseSelectorString); `(everything)` for an empty one. */
export function formatSelector(s: LabelSelector): string {
  const terms = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === 'Exists') terms.push(e.key);
    else if (e.operator === 'DoesNotExist') terms.push(`!${e.key}`);
    else terms.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return terms.length > 0 ? terms.join(',') : '(everything)';
}
