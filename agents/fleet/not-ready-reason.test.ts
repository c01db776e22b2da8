import t from 'tap';
import { explainNotReady } from './not-ready-reason.ts';
import type { KubeObject } from './types.ts';

const ev = (name: string, kind: string, reason: string, message: string, at: string, type = 'Warning'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Event', metadata: { name: `${name}.x`, namespace: 'shop' }, type, reason, message, lastTimestamp: at, involvedObject: { kind, name, namespace: 'shop' } }) as unknown as KubeObject;

t.test('not ready: the newest Warning events of the workload and of what it owns by name, one per reason', async (t) => {
  const events = [
    ev('web-5d8f9c7b4-bcdfg', 'Pod', 'FailedScheduling', '0/2 nodes are available: 2 node(s) didn\'t match Pod\'s node affinity/selector.', '2026-12-05T10:00:02Z'),
    ev('web-5d8f9c7b4-bcdfg', 'Pod', 'FailedScheduling', 'older, same reason', '2026-12-05T09:00:00Z'),
    ev('web-5d8f9c7b4', 'ReplicaSet', 'FailedCreate', 'quota exceeded', '2026-12-05T10:00:01Z'),
    ev('web', 'Deployment', 'ScalingReplicaSet', 'scaled up', '2026-12-05T10:00:03Z', 'Normal'),
    ev('webhook-1', 'Pod', 'BackOff', 'not this workload', '2026-12-05T10:00:04Z'),
    ev('api-1', 'Pod', 'BackOff', 'another workload', '2026-12-05T10:00:05Z'),
    ev('web-api-5d8f9c7b4-x2k4p', 'Pod', 'ErrImagePull', 'the web-api deployment, not web', '2026-12-05T10:00:06Z'),
    ev('web-front1', 'Deployment', 'Failed', 'another deployment named web-front1', '2026-12-05T10:00:07Z'),
  ];
  t.same(explainNotReady({ kind: 'Deployment', name: 'web', namespace: 'shop' }, events), [
    "Pod web-5d8f9c7b4-bcdfg: FailedScheduling: 0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
    'ReplicaSet web-5d8f9c7b4: FailedCreate: quota exceeded',
  ]);
  t.same(explainNotReady({ kind: 'Deployment', name: 'web', namespace: 'other' }, events), [], 'namespaced');
  t.same(explainNotReady({ kind: 'Deployment', name: 'db', namespace: 'shop' }, events), []);
});
