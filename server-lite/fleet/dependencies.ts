// dependsOn: a bundle waits on a cluster until the bundles it depends on are in an accepted state
// there (default Ready), as in Fleet. The fleet agent enforces it while applying (the server resolves
// selector dependencies per cluster); the server refuses dependency cycles up front (they would wait
// forever).
import { FleetError } from './errors.ts';
import type { FleetYaml } from './fleet-yaml.ts';

export type DependsOn = NonNullable<FleetYaml['dependsOn']>;

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
