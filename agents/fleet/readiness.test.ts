import t from 'tap';
import { readinessOf } from './readiness.ts';

const dep = (status: Record<string, unknown>, generation = 2, replicas = 2) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', generation }, spec: { replicas }, status });

t.test('readiness: a Deployment is ready when observed, updated and available', async (t) => {
  t.equal(readinessOf(dep({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })).ready, true);
  t.match(readinessOf(dep({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })), { ready: false, reason: /observedGeneration/ });
  t.match(readinessOf(dep({ observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 2 })), { ready: false, reason: /updated 1\/2/ });
  t.match(readinessOf(dep({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })), { ready: false, reason: /old replicas/ });
  t.match(readinessOf(dep({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 })), { ready: false, reason: /available 1\/2/ });
  t.match(readinessOf(dep({ observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] })), { ready: false, failed: true });
  t.equal(readinessOf(dep({ observedGeneration: 2 }, 2, 0)).ready, true, 'scaled to zero is ready');
});

t.test('readiness: StatefulSet, DaemonSet and Job by their own counters and conditions', async (t) => {
  const sts = (status: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1, ...status } });
  t.equal(readinessOf(sts({ readyReplicas: 2, updatedReplicas: 2, currentRevision: 'a', updateRevision: 'a' })).ready, true);
  t.equal(readinessOf(sts({ readyReplicas: 2, updatedReplicas: 2, currentRevision: 'a', updateRevision: 'b' })).ready, false);
  t.equal(readinessOf(sts({ readyReplicas: 1 })).ready, false);
  const ds = (status: Record<string, unknown>) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { generation: 1 }, status: { observedGeneration: 1, ...status } });
  t.equal(readinessOf(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 })).ready, true);
  t.equal(readinessOf(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 })).ready, false);
  const job = (conditions: unknown[]) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: {}, status: { conditions } });
  t.equal(readinessOf(job([{ type: 'Complete', status: 'True' }])).ready, true);
  t.match(readinessOf(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }])), { ready: false, failed: true, reason: /BackoffLimitExceeded/ });
  t.match(readinessOf(job([])), { ready: false, failed: false });
});

t.test('readiness: a generic Ready condition decides; CRDs need Established; others are ready once they exist', async (t) => {
  t.equal(readinessOf({ apiVersion: 'example.com/v1', kind: 'Widget', status: { conditions: [{ type: 'Ready', status: 'True' }] } }).ready, true);
  t.match(readinessOf({ apiVersion: 'example.com/v1', kind: 'Widget', status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Waiting' }] } }), { ready: false, reason: /Waiting/ });
  t.equal(readinessOf({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', status: { conditions: [{ type: 'Established', status: 'True' }] } }).ready, true);
  t.equal(readinessOf({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', status: {} }).ready, false);
  t.equal(readinessOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }).ready, true);
  t.equal(readinessOf({ apiVersion: 'v1', kind: 'Namespace', status: { phase: 'Terminating' } }).ready, false);
  t.equal(readinessOf({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', status: { phase: 'Pending' } }).ready, false);
  t.equal(readinessOf(null).ready, true, 'garbage in does not throw');
});
