// Readiness like kstatus, computed from a live object alone (pure): workload controllers by their
// status counters and observedGeneration, Jobs by their terminal conditions, anything else with a
// `Ready` condition by it, and everything else ready once it exists.

export type Readiness = { ready: true } | { ready: false; failed: boolean; reason: string };

type Obj = Record<string, unknown>;
interface Condition { type?: unknown; status?: unknown; reason?: unknown; message?: unknown }

const READY: Readiness = { ready: true };
const notReady = (reason: string, failed = false): Readiness => ({ ready: false, failed, reason });
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown, dflt = 0): number => (typeof v === 'number' ? v : dflt);
const conditions = (status: Obj): Condition[] => (Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []);
const condition = (status: Obj, type: string): Condition | undefined => conditions(status).find((c) => c.type === type);

/** The controller has not seen the latest spec yet: nothing in status can be trusted. */
function stale(obj: Obj): Readiness | undefined {
  const generation = num(rec(obj.metadata).generation, 0);
  const observed = rec(obj.status).observedGeneration;
  if (generation > 0 && (typeof observed !== 'number' || observed < generation)) {
    return notReady(`observedGeneration ${typeof observed === 'number' ? observed : 'unset'} < generation ${generation}`);
  }
  return undefined;
}

function deployment(obj: Obj): Readiness {
  const s = rec(obj.status);
  const want = num(rec(obj.spec).replicas, 1);
  const progressing = condition(s, 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') return notReady('progress deadline exceeded', true);
  if (num(s.updatedReplicas) < want) return notReady(`updated ${num(s.updatedReplicas)}/${want}`);
  if (num(s.replicas) > num(s.updatedReplicas)) return notReady(`${num(s.replicas) - num(s.updatedReplicas)} old replicas pending termination`);
  if (num(s.availableReplicas) < want) return notReady(`available ${num(s.availableReplicas)}/${want}`);
  return READY;
}

function statefulSet(obj: Obj): Readiness {
  const s = rec(obj.status);
  const spec = rec(obj.spec);
  const want = num(spec.replicas, 1);
  if (num(s.readyReplicas) < want) return notReady(`ready ${num(s.readyReplicas)}/${want}`);
  const partition = num(rec(rec(spec.updateStrategy).rollingUpdate).partition, 0);
  if (num(s.updatedReplicas) < want - partition) return notReady(`updated ${num(s.updatedReplicas)}/${want - partition}`);
  if (partition === 0 && s.updateRevision !== undefined && s.currentRevision !== s.updateRevision) return notReady('rolling update in progress');
  return READY;
}

function daemonSet(obj: Obj): Readiness {
  const s = rec(obj.status);
  const want = num(s.desiredNumberScheduled);
  if (num(s.updatedNumberScheduled) < want) return notReady(`updated ${num(s.updatedNumberScheduled)}/${want}`);
  if (num(s.numberAvailable) < want) return notReady(`available ${num(s.numberAvailable)}/${want}`);
  return READY;
}

function job(obj: Obj): Readiness {
  const s = rec(obj.status);
  if (condition(s, 'Failed')?.status === 'True') return notReady(`failed: ${String(condition(s, 'Failed')?.reason ?? 'unknown')}`, true);
  if (condition(s, 'Complete')?.status === 'True') return READY;
  return notReady(`running: ${num(s.succeeded)} succeeded`);
}

export function readinessOf(live: unknown): Readiness {
  const obj = rec(live);
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const group = typeof obj.apiVersion === 'string' && obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0]! : '';
  const s = rec(obj.status);
  if (group === 'apps' || group === 'batch') {
    const old = stale(obj);
    if (old) return old;
    if (kind === 'Deployment') return deployment(obj);
    if (kind === 'StatefulSet') return statefulSet(obj);
    if (kind === 'DaemonSet') return daemonSet(obj);
    if (kind === 'Job') return job(obj);
  }
  if (group === 'apiextensions.k8s.io' && kind === 'CustomResourceDefinition') {
    return condition(s, 'Established')?.status === 'True' ? READY : notReady('not Established');
  }
  if (group === '' && kind === 'Namespace') return s.phase === 'Terminating' ? notReady('terminating') : READY;
  if (group === '' && kind === 'PersistentVolumeClaim') return s.phase === 'Bound' ? READY : notReady(`phase ${String(s.phase ?? 'unset')}`);
  if (group === '' && kind === 'Pod') {
    if (s.phase === 'Succeeded') return READY;
    if (s.phase === 'Failed') return notReady('pod failed', true);
  }
  const ready = condition(s, 'Ready');
  if (ready !== undefined) {
    const old = stale(obj);
    if (old && s.observedGeneration !== undefined) return old;
    return ready.status === 'True' ? READY : notReady(`Ready=${String(ready.status)}${ready.reason ? ` (${String(ready.reason)})` : ''}`);
  }
  return READY;
}
