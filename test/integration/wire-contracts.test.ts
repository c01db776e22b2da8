// Both sides of each stream target hold to the one contract (protocol/contracts/, SPEC.md §10.1):
// the RBAC set the server builds (cluster roles and project roles) is accepted by the cluster agent's
// own check, object by object; the fleet agent's endpoint answers, over a real HTTP exchange, parse
// with the contract's schemas, and every error it sends is the uniform {"error":{"code","message"}}.
import t from 'tap';
import { createServer, connect, type AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import pino from 'pino';
import {
  AGENT_ROLES, createStreamHttpServer, desiredAckSchema, FLEET_DEPLOYMENT_STATES, outboxAckAnswerSchema, outboxAnswerSchema, outboxRowSchema, rbacObjectSchema, rbacSetSchema,
  removeAnswerSchema, requestOverStream, resumeAnswerSchema, targetErrorSchema,
} from '../../protocol/index.ts';
import { desiredRbac } from '../../server-lite/rbac/desired.ts';
import { STATE_PRECEDENCE } from '../../server-lite/fleet/deployment-state.ts';
import { DEPLOYMENT_STATES as DEPENDS_ON_STATES } from '../../server-lite/fleet/fleet-yaml.ts';
import { ROLES as SERVER_ROLES } from '../../server-lite/store/store.ts';
import { ROLES as AGENT_CONFIG_ROLES } from '../../agents/common/config.ts';
import { DEPLOYMENT_STATES as AGENT_STATES, STATE_RANK } from '../../agents/fleet/types.ts';
import { checkRbacSet } from '../../agents/cluster/rbac-set.ts';
import { createFleetAgent } from '../../agents/fleet/fleet-agent.ts';
import { fleetEndpoint } from '../../agents/fleet/fleet-endpoint.ts';
import { FakeKube } from '../fakes/fake-kube.ts';

const log = pino({ level: 'silent' });

t.test('rbac: the server\'s desired set, cluster and project roles, passes the contract and the agent\'s check', async (t) => {
  const now = 0;
  const objects = desiredRbac(
    [{ userName: 'amy', clusterId: 'c1', role: 'cluster-member', createdAt: now }, { userName: 'zed', clusterId: 'c1', role: 'read-only', createdAt: now }, { userName: 'max', clusterId: 'c1', role: 'cluster-owner', createdAt: now }],
    [{ project: { name: 'shop', clusterId: 'c1', namespaces: ['shop-a', 'shop-b'], createdAt: now }, bindings: [{ userName: 'kim', project: 'shop', role: 'project-owner', createdAt: now }, { userName: 'lee', project: 'shop', role: 'project-member', createdAt: now }] }],
  );
  t.ok(objects.some((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'shop-a'), 'the set has namespaced project RoleBindings');
  t.ok(objects.some((o) => o.kind === 'RoleBinding' && o.metadata.namespace === undefined), 'and templates');
  const body = JSON.parse(JSON.stringify({ objects })) as unknown;
  t.ok(rbacSetSchema.safeParse(body).success, 'the PUT body is a set');
  for (const o of objects) t.ok(rbacObjectSchema.safeParse(o).success, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} fits the contract`);
  const check = checkRbacSet(body);
  t.same(check.ok ? [] : [check.reason], [], 'the cluster agent accepts the whole set');
});

async function call(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const socket = connect(port, '127.0.0.1');
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const r = await requestOverStream(socket, {
    method, path,
    headers: { host: 'x', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
    ...(payload === undefined ? {} : { body: payload }),
  });
  if (r.kind !== 'response') throw new Error('upgrade');
  const chunks: Buffer[] = [];
  for await (const c of r.response as AsyncIterable<Buffer>) chunks.push(c);
  socket.destroy();
  return { status: r.response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
}

t.test('fleet: the agent endpoint answers by the contract; its errors are uniform', async (t) => {
  const agent = createFleetAgent({ db: new Database(':memory:'), kube: new FakeKube(), log });
  const http = createStreamHttpServer({ request: fleetEndpoint(agent, log) });
  const server = createServer((s) => http.serve(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const ok = (schema: { safeParse(v: unknown): { success: boolean } }, r: { status: number; json: unknown }, what: string) => {
    t.equal(r.status, 200, `${what}: 200`);
    t.ok(schema.safeParse(r.json).success, `${what}: the answer fits the contract`);
  };
  const uniform = (r: { status: number; json: unknown }, status: number, code: string, what: string) => {
    t.equal(r.status, status, `${what}: ${status}`);
    t.ok(targetErrorSchema.safeParse(r.json).success, `${what}: {"error":{"code","message"}}`);
    t.equal((r.json as { error?: { code?: string } }).error?.code, code, `${what}: ${code}`);
  };

  ok(resumeAnswerSchema, await call(port, 'GET', '/v1/fleet/resume'), 'resume, empty');
  const desired = { id: 'web', bundle: 'web', revision: 'r1', options: { correctDrift: true }, manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' }, data: { k: 'v' } }] };
  ok(desiredAckSchema, await call(port, 'PUT', '/v1/fleet/deployments/web', desired), 'PUT of a whole set');
  const resume = await call(port, 'GET', '/v1/fleet/resume');
  ok(resumeAnswerSchema, resume, 'resume, holding one');
  t.same((resume.json as { deployments: unknown[] }).deployments, [{ deploymentId: 'web', revision: 'r1', options: { correctDrift: true } }], 'options come back as sent');
  await agent.reconcileNow();
  const outbox = await call(port, 'GET', '/v1/fleet/outbox?limit=10');
  ok(outboxAnswerSchema, outbox, 'outbox');
  const rows = (outbox.json as { rows: unknown[] }).rows;
  t.ok(rows.length > 0, 'a status is queued');
  for (const row of rows) t.ok(outboxRowSchema.safeParse(row).success, 'each row fits the contract');
  ok(outboxAckAnswerSchema, await call(port, 'POST', '/v1/fleet/outbox/ack', { seq: 1 }), 'ack');
  ok(removeAnswerSchema, await call(port, 'DELETE', '/v1/fleet/deployments/web'), 'DELETE');

  uniform(await call(port, 'GET', '/v1/fleet/nothing'), 404, 'NOT_FOUND', 'unknown path');
  uniform(await call(port, 'POST', '/v1/fleet/outbox/ack', { seq: 'x' }), 400, 'INVALID', 'ack without a whole seq');
  uniform(await call(port, 'PUT', '/v1/fleet/deployments/other', desired), 400, 'MANIFEST_INVALID', 'a body for another id');
  uniform(await call(port, 'PUT', '/v1/fleet/deployments/web', '{not json'), 400, 'INVALID', 'not JSON');
  uniform(await call(port, 'PUT', '/v1/fleet/deployments/web', { ...desired, manifests: [{ kind: 'ConfigMap' }] }), 422, 'MANIFEST_INVALID', 'a manifest without its header (the agent\'s own check)');
  uniform(await call(port, 'PUT', '/v1/fleet/deployments/web', { ...desired, delta: { from: 'r0', upserts: [], removals: [] }, manifests: undefined }), 409, 'DELTA_MISMATCH', 'a delta for a base the agent does not hold');
});

t.test('roles and deployment states are the contract\'s on both sides', async (t) => {
  t.equal(SERVER_ROLES, AGENT_ROLES, 'the server\'s roles are the contract\'s');
  t.equal(AGENT_CONFIG_ROLES, AGENT_ROLES, 'and the agent\'s');
  t.same([...STATE_PRECEDENCE].sort(), [...FLEET_DEPLOYMENT_STATES].sort(), 'the server ranks exactly the contract\'s states');
  t.same(Object.keys(STATE_RANK).sort(), [...AGENT_STATES].sort(), 'the agent ranks exactly the states it reports');
  for (const s of DEPENDS_ON_STATES) t.ok((FLEET_DEPLOYMENT_STATES as readonly string[]).includes(s), `dependsOn may accept ${s}, a state of the contract`);
});
