// The state of one deployment (pure), from what the store knows and what was observed live, with
// Fleet's precedence: ErrApplied > WaitApplied > Modified > OutOfSync > NotReady > Ready.
import type { DeploymentState, DeploymentStatus, DesiredDeployment, ObjectDrift, ObjectRef } from './types.ts';
import type { AppliedRecord } from './store.ts';
import type { Readiness } from './readiness.ts';
import { describeRef } from './object-ref.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';

const CAP = FLEET_AGENT_LIMITS.MAX_STATUS_OBJECTS;

export interface ObservedObject {
  ref: ObjectRef;
  /** undefined when the object does not exist live. */
  readiness: Readiness | undefined;
  /** Differing fields (JSON pointers); [] when in sync. */
  drift: string[];
}

export interface StateInput {
  desired: DesiredDeployment;
  applied: AppliedRecord;
  /** A journal is open for this deployment (an apply started and has not finished). */
  journalOpen: boolean;
  /** Dependencies not yet in an accepted state (deployment ids). */
  waitingFor: string[];
  /** Live observations, present once the desired revision is applied. */
  observed: ObservedObject[] | undefined;
}

export function computeStatus(input: StateInput): DeploymentStatus {
  const { desired, applied } = input;
  const base = { deploymentId: desired.id, bundle: desired.bundle, revision: desired.revision, appliedRevision: applied.revision, nonReady: [] as string[], modified: [] as ObjectDrift[] };
  const status = (state: DeploymentState, message: string, extra: Partial<DeploymentStatus> = {}): DeploymentStatus => ({ ...base, state, message, ...extra });

  if (applied.error !== undefined && applied.errorRevision === desired.revision) return status('ErrApplied', applied.error);
  const current = applied.revision === desired.revision && !input.journalOpen;
  if (!current) {
    if (input.waitingFor.length > 0) {
      const msg = `waiting for dependsOn: ${input.waitingFor.join(', ')}`;
      // An older revision is live: the cluster runs something, just not what was asked.
      return applied.revision === undefined ? status('WaitApplied', msg) : status('OutOfSync', msg);
    }
    return status('WaitApplied', input.journalOpen ? 'apply in progress' : 'not applied yet');
  }
  const observed = input.observed ?? [];
  const modified: ObjectDrift[] = observed
    .filter((o) => o.readiness === undefined || o.drift.length > 0)
    .map((o) => ({ ref: o.ref, missing: o.readiness === undefined, fields: o.drift }));
  const nonReady = observed.flatMap((o) => (o.readiness !== undefined && !o.readiness.ready ? [`${describeRef(o.ref)}: ${o.readiness.reason}`] : []));
  if (modified.length > 0) {
    const parts = modified.slice(0, 5).map((m) => `${describeRef(m.ref)} ${m.missing ? 'missing' : `modified ${m.fields.join(',')}`}`);
    return status('Modified', `${modified.length} object(s) drifted: ${parts.join('; ')}${modified.length > 5 ? '; …' : ''}`, { modified: modified.slice(0, CAP), nonReady: nonReady.slice(0, CAP) });
  }
  if (nonReady.length > 0) {
    return status('NotReady', `${nonReady.length} object(s) not ready: ${nonReady.slice(0, 5).join('; ')}${nonReady.length > 5 ? '; …' : ''}`, { nonReady: nonReady.slice(0, CAP) });
  }
  return status('Ready', `${observed.length} object(s) ready`);
}
