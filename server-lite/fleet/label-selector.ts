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

/** `k=v,k2=v2` (the CLI's --labels/--selector form) into matchLabels; whitespace around parts ignored. */
export function parseSelectorString(text: string): LabelSelector {
  const matchLabels: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new FleetError('SELECTOR_INVALID', `selector "${text}": "${part}" is not key=value`);
    matchLabels[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return { matchLabels };
}
