// The wire contracts of the stream targets (SPEC.md §10.1): the error body both forms read, and
// each schema accepting what the documented examples say and refusing what they rule out.
import t from 'tap';
import { describeTargetError, readTargetError, targetError, targetErrorSchema } from './target-error.ts';
import { rbacAppliedSchema, rbacObjectSchema, rbacSetSchema } from './rbac.ts';
import { kubeFactsSchema, MAX_FACTS_WARNINGS } from './facts.ts';
import { deploymentOptionsSchema, desiredBodySchema, desiredDeltaSchema, desiredFullSchema, outboxAckSchema, outboxRowSchema, resumeAnswerSchema } from './fleet.ts';

t.test('target errors: one uniform body; the bare form of older fleet agents is still read', async (t) => {
  t.same(targetError('NOT_FOUND', 'GET /x'), { error: { code: 'NOT_FOUND', message: 'GET /x' } });
  t.ok(targetErrorSchema.safeParse(targetError('X', 'y')).success);
  t.notOk(targetErrorSchema.safeParse({ error: 'apply refused' }).success, 'a bare string error is not the uniform body');
  t.same(readTargetError({ error: { code: 'BAD_RBAC_SET', message: 'm' } }), { code: 'BAD_RBAC_SET', message: 'm' });
  t.same(readTargetError({ code: 'SQLITE_FULL', message: 'disk full' }), { code: 'SQLITE_FULL', message: 'disk full' }, 'legacy bare form');
  t.equal(readTargetError({ error: 'apply refused' }), undefined);
  t.equal(readTargetError('text'), undefined);
  t.equal(describeTargetError(502, { error: { code: 'FACTS_FAILED', message: 'down' } }), 'FACTS_FAILED: down');
  t.equal(describeTargetError(500, 'oops'), '500: oops');
  t.equal(describeTargetError(404, ''), '404');
});

t.test('rbac: the set, its objects (templates and namespaced RoleBindings) and the answer', async (t) => {
  const labels = { 'app.kubernetes.io/managed-by': 'drover' };
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'drover-x', labels }, rules: [] };
  const template = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'drover-t', labels }, roleRef: { kind: 'ClusterRole', name: 'drover-x' }, subjects: [] };
  t.ok(rbacObjectSchema.safeParse(role).success);
  t.ok(rbacObjectSchema.safeParse(template).success, 'a template: no namespace');
  t.ok(rbacObjectSchema.safeParse({ ...template, metadata: { ...template.metadata, namespace: 'team-a' } }).success, 'a RoleBinding for one namespace (projects)');
  t.same(rbacObjectSchema.parse({ ...role, aggregationRule: { clusterRoleSelectors: [] } }).aggregationRule, { clusterRoleSelectors: [] }, 'other fields are kept (sent to the apiserver as they are)');
  t.notOk(rbacObjectSchema.safeParse({ ...role, kind: 'Role' }).success, 'no other kinds');
  t.notOk(rbacObjectSchema.safeParse({ ...role, apiVersion: 'v1' }).success);
  t.notOk(rbacObjectSchema.safeParse({ ...role, metadata: { name: 'drover-x', labels: { a: 1 } } }).success, 'labels are strings');
  t.ok(rbacSetSchema.safeParse({ objects: [] }).success);
  t.notOk(rbacSetSchema.safeParse({}).success);
  t.ok(rbacAppliedSchema.safeParse({ applied: 3, deleted: ['RoleBinding/team-a/drover-t'] }).success);
  t.notOk(rbacAppliedSchema.safeParse({ applied: 0, pruned: 0 }).success, 'the answer names what was deleted');
});

t.test('facts: the answer of GET /v1/facts', async (t) => {
  const facts = {
    kubernetesVersion: 'v1.34.4', nodeCount: 1,
    nodes: [{ name: 'n1', kubeletVersion: null, capacity: { cpu: '4' }, allocatable: { cpu: '4' }, conditions: [{ type: 'Ready', status: 'True', reason: null, lastTransitionTime: null }] }],
    warnings: [{ namespace: null, object: 'Pod/x', reason: 'BackOff', message: 'm', count: 2, lastSeen: null }],
  };
  t.ok(kubeFactsSchema.safeParse(facts).success);
  t.ok(kubeFactsSchema.safeParse({ ...facts, kubernetesVersion: null }).success, 'version unknown');
  t.notOk(kubeFactsSchema.safeParse({ ...facts, nodeCount: -1 }).success);
  t.notOk(kubeFactsSchema.safeParse({ ...facts, warnings: Array.from({ length: MAX_FACTS_WARNINGS + 1 }, () => facts.warnings[0]) }).success, 'bounded');
  t.same(Object.keys(kubeFactsSchema.parse({ ...facts, extra: 'x' })).sort(), ['kubernetesVersion', 'nodeCount', 'nodes', 'warnings'], 'only the contract fields are kept');
});

t.test('fleet: whole sets and deltas, options kept as sent, resume points old and new, outbox rows and acks', async (t) => {
  const header = { id: 'web', bundle: 'web', revision: 'r2', options: { correctDrift: true } };
  const full = { ...header, manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }] };
  const delta = { ...header, delta: { from: 'r1', upserts: [{ id: '/ConfigMap/apps/a', object: full.manifests[0] }], removals: ['/ConfigMap/apps/b'] } };
  t.ok(desiredFullSchema.safeParse(full).success);
  t.ok(desiredDeltaSchema.safeParse(delta).success);
  t.notOk(desiredDeltaSchema.safeParse(full).success, 'a whole set is not a delta');
  t.ok('delta' in desiredBodySchema.parse(delta), 'the PUT body union tells them apart');
  t.notOk(desiredDeltaSchema.safeParse({ ...delta, delta: { ...delta.delta, upserts: [{ id: 'x', object: { kind: 'ConfigMap' } }] } }).success, 'an upsert is a whole object');
  t.notOk(desiredFullSchema.safeParse({ ...full, options: { correctDrift: 'yes' } }).success, 'options are typed');
  const options = { correctDrift: true, dependsOn: [{ deploymentId: 'db', acceptedStates: ['Ready', 'Pending'] }], comparePatches: [{ kind: 'Deployment', operations: [{ op: 'remove', path: '/spec/replicas' }] }], fromANewerServer: 1 };
  t.same(deploymentOptionsSchema.parse(options), options, 'options round-trip unchanged, unknown members too (the held key compares equal)');
  t.ok(resumeAnswerSchema.safeParse({ deployments: [{ deploymentId: 'web', revision: 'r1' }] }).success, 'agents before options in the resume point');
  t.ok(resumeAnswerSchema.safeParse({ deployments: [{ deploymentId: 'web', revision: 'r1', options: {} }], features: ['delta'] }).success);
  t.notOk(resumeAnswerSchema.safeParse({ deployments: [{ revision: 'r1' }] }).success);
  t.same(outboxRowSchema.parse({ seq: 4, createdAt: null, status: { bundle: 'web', revision: 'r1', appliedRevision: null, state: 'Ready', message: '', nonReady: [] } }).status.appliedRevision, undefined);
  t.notOk(outboxRowSchema.safeParse({ seq: 0, status: { bundle: 'web', revision: 'r1', state: 'Ready', message: '' } }).success, 'sequence numbers start at 1');
  t.ok(outboxAckSchema.safeParse({ seq: 7 }).success);
  t.notOk(outboxAckSchema.safeParse({ seq: 1.5 }).success);
});
