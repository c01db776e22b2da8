// dependsOn: a bundle waits on a cluster until the bundles it depends on are in an accepted state
// there (default Ready), as in Fleet. The agent enforces it while applying; the server uses the same
// rule for status messages, and refuses dependency cycles up front (they would wait forever).
import { FleetError } from './errors.ts';
import type { FleetYaml } from './fleet-yaml.ts';
import type { DeploymentState } from './deployment-state.ts';
import { matchesSelector, type Labels } from './label-selector.ts';

export type DependsOn = NonNullable<FleetYaml['dependsOn']>;

export interface BundleOnCluster {
  name: string;
  labels?: Labels | undefined;
  state: DeploymentState;
}

export interface DependencyCheck {
  satisfied: boolean;
  /** One line per unmet dependency, e.g. `infra (is NotReady, needs Ready)`. */
  waitingFor: string[];
}

export function checkDependencies(dependsOn: DependsOn | undefined, onCluster: readonly BundleOnCluster[]): DependencyCheck {
  const waitingFor: string[] = [];
  for (const dep of dependsOn ?? []) {
    const accepted: readonly DeploymentState[] = dep.acceptedStates ?? ['Ready'];
    const matches = onCluster.filter((b) => (dep.name === undefined || b.name === dep.name) && (dep.selector === undefined || matchesSelector(dep.selector, b.labels ?? {})));
    const label = dep.name ?? `selector ${JSON.stringify(dep.selector ?? {})}`;
    if (matches.length === 0) {
      waitingFor.push(`${label} (not deployed on this cluster)`);
      continue;
    }
    for (const m of matches) if (!accepted.includes(m.state)) waitingFor.push(`${m.name} (is ${m.state}, needs ${accepted.join(' or ')})`);
  }
  return { satisfied: waitingFor.length === 0, waitingFor };
}

/** Refuses cycles among named dependencies (`a → b → a`), naming the cycle. Selector dependencies are not followed. */
export function assertNoDependencyCycle(bundles: readonly { name: string; dependsOn?: DependsOn | undefined }[]): void {
  const edges = new Map(bundles.map((b) => [b.name, (b.dependsOn ?? []).flatMap((d) => (d.name !== undefined ? [d.name] : []))]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      throw new FleetError('DEPENDENCY_CYCLE', `dependsOn forms a cycle: ${cycle.join(' → ')}`, { bundle: name });
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const next of edges.get(name) ?? []) if (edges.has(next)) visit(next);
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...edges.keys()].sort()) visit(name);
}
