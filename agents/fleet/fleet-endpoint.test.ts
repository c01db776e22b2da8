// The fleet role's tunnel endpoint over a real socket (standing in for a tunnel stream): resume
// point, desired deployments acknowledged only once stored, outbox drained and acknowledged.
import t from 'tap';
import { createServer, connect, type AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import pino from 'pino';
import { createStreamHttpServer, requestOverStream } from '../../protocol/index.ts';
import { createFleetAgent } from './fleet-agent.ts';
import { fleetEndpoint } from './fleet-endpoint.ts';
import { FakeKube } from '../../test/fakes/fake-kube.ts';

const log = pino({ level: 'silent' });

async function call(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const socket = connect(port, '127.0.0.1');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const r = await requestOverStream(socket, {
    method,
    path,
    headers: { host: 'x', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
    ...(payload === undefined ? {} : { body: payload }),
  });
  if (r.kind !== 'response') throw new Error('upgrade');
  const chunks: Buffer[] = [];
  for await (const c of r.response as AsyncIterable<Buffer>) chunks.push(c);
  socket.destroy();
  return { status: r.response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
}

t.test('fleet endpoint: accept, resume, outbox drain and ack', async (t) => {
  const db = new Database(':memory:');
  const agent = createFleetAgent({ db, kube: new FakeKube(), log });
  const http = createStreamHttpServer({ request: fleetEndpoint(agent, log) });
  const server = createServer((s) => http.serve(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;

  t.same((await call(port, 'GET', '/v1/fleet/resume')).json, { deployments: [], features: ['delta', 'outbox-signal'] });
  const desired = {
    id: 'web', bundle: 'web', revision: 'r1', options: {},
    manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' }, data: { k: 'v' } }],
  };
  const ack = await call(port, 'PUT', '/v1/fleet/deployments/web', desired);
  t.equal(ack.status, 200);
  t.same(ack.json, { deploymentId: 'web', revision: 'r1' });
  t.same((await call(port, 'GET', '/v1/fleet/resume')).json, { deployments: [{ deploymentId: 'web', revision: 'r1', options: {} }], features: ['delta', 'outbox-signal'] });

  await agent.reconcileNow();
  const outbox = (await call(port, 'GET', '/v1/fleet/outbox?limit=10')).json as { rows: { seq: number; status: { revision: string } }[] };
  t.ok(outbox.rows.length >= 1, 'a status is queued after a pass');
  t.equal(outbox.rows[0]?.status.revision, 'r1');
  const last = outbox.rows.at(-1)?.seq ?? 0;
  t.same((await call(port, 'POST', '/v1/fleet/outbox/ack', { seq: last })).json, { removed: outbox.rows.length });
  t.same(((await call(port, 'GET', '/v1/fleet/outbox')).json as { rows: unknown[] }).rows, []);

  const bad = await call(port, 'PUT', '/v1/fleet/deployments/other', desired);
  t.equal(bad.status, 400, 'a body for another id is refused');
  t.same((await call(port, 'GET', '/v1/fleet/resume')).json, { deployments: [{ deploymentId: 'web', revision: 'r1', options: {} }], features: ['delta', 'outbox-signal'] }, 'nothing stored from the refusal');
  t.same((await call(port, 'DELETE', '/v1/fleet/deployments/web')).json, { removed: true });
});
