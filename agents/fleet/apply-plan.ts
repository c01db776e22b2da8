// The pure planner: which objects to apply and in what order, what a new revision dropped (to
// prune, or to orphan under keepResources), and in what order deployments go given dependsOn.
import type { DeploymentOptions, DeploymentState, ObjectRef } from './types.ts';
import type { StepAction } from './apply-journal.ts';
import { keyOf } from './object-ref.ts';
import { compareApplyRank } from './apply-order.ts';
import { FleetAgentError } from './errors.ts';

export interface PlannedStep {
  action: StepAction;
  ref: ObjectRef;
}

/**
 * Steps for one revision: applies first, Namespaces then CRDs then the rest by kind (apply-order.ts;
 * manifest order kept within a kind, so a chart's own ordering survives); then what the inventory holds and the
 * revision no longer names, cluster-scoped containers last (deleting a Namespace first would
 * delete its content behind our back and leave the journal guessing).
 */
export function planRevision(desired: readonly ObjectRef[], inventory: readonly ObjectRef[], keepResources: boolean): PlannedStep[] {
  const wanted = new Set(desired.map(keyOf));
  const applies = desired.map((ref, i) => ({ ref, i })).sort((a, b) => compareApplyRank(a.ref, b.ref) || a.i - b.i);
  const dropped = inventory.filter((ref) => !wanted.has(keyOf(ref)))
    .map((ref, i) => ({ ref, i }))
    .sort((a, b) => compareApplyRank(b.ref, a.ref) || a.i - b.i);
  return [
    ...applies.map(({ ref }) => ({ action: 'apply' as const, ref })),
    ...dropped.map(({ ref }) => ({ action: keepResources ? ('orphan' as const) : ('prune' as const), ref })),
  ];
}

export interface DependencyNode {
  id: string;
  dependsOn: NonNullable<DeploymentOptions['dependsOn']>;
}

/**
 * Deployments in an order where each comes after what it depends on (ties by id, so the order is
 * stable). Deployments in a dependency cycle are returned apart: none of them can ever be applied.
 * A dependency on a deployment this agent does not hold is left to `dependenciesMet` (never met).
 */
export function orderDeployments(nodes: readonly DependencyNode[]): { order: string[]; cyclic: string[] } {
  const ids = new Set(nodes.map((n) => n.id));
  const pending = new Map(nodes.map((n) => [n.id, new Set(n.dependsOn.map((d) => d.deploymentId).filter((d) => ids.has(d) && d !== n.id))]));
  const selfLoop = nodes.filter((n) => n.dependsOn.some((d) => d.deploymentId === n.id)).map((n) => n.id);
  for (const id of selfLoop) pending.delete(id);
  const order: string[] = [];
  for (;;) {
    const ready = [...pending].filter(([, deps]) => [...deps].every((d) => order.includes(d))).map(([id]) => id).sort();
    if (ready.length === 0) break;
    for (const id of ready) {
      order.push(id);
      pending.delete(id);
    }
  }
  return { order, cyclic: [...selfLoop, ...pending.keys()].sort() };
}

/** Whether every dependency is in one of its accepted states (Ready by default, as in Fleet). */
export function dependenciesMet(dependsOn: DependencyNode['dependsOn'], stateOf: (id: string) => DeploymentState | undefined): { met: boolean; waitingFor: string[] } {
  const waitingFor = dependsOn.filter((d) => {
    const s = stateOf(d.deploymentId);
    return s === undefined || !(d.acceptedStates ?? ['Ready']).includes(s);
  }).map((d) => d.deploymentId);
  return { met: waitingFor.length === 0, waitingFor };
}

export function assertNoCycle(id: string, cyclic: readonly string[]): void {
  if (cyclic.includes(id)) throw new FleetAgentError('DEPENDENCY_CYCLE', `deployment ${id} is part of a dependsOn cycle (${cyclic.join(', ')})`);
}
