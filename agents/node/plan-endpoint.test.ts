// The node agent's http:drover-plans endpoint answers every refusal with the uniform
// `{"error":{"code","message"}}` (ARCHITECTURE §4, protocol/contracts/target-error.ts), served
// here by a real HTTP server on loopback (the tunnel carries the same HTTP bytes).
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import pino from 'pino';
import { targetErrorSchema } from '../../protocol/index.ts';
import { PlanAgent } from './plan-agent.ts';
import { planEndpoint } from './plan-endpoint.ts';

t.test('plan endpoint: every error answer is the uniform error body', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-plan-endpoint-'));
  const log = pino({ level: 'silent' });
  const agent = new PlanAgent({ db: new Database(':memory:'), dataDir: dir, log, scanMs: 60_000 });
  const server = http.createServer(planEndpoint(agent, log));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await new Promise((resolve) => server.close(resolve));
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, p: string, body?: string) => {
    const r = await fetch(`${base}${p}`, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });
    return { status: r.status, json: (await r.json()) as unknown };
  };
  const cases: [string, string, string | undefined, number, string][] = [
    ['PUT', '/v1/node/plans/p', '{"document":{}}', 400, 'INVALID'],
    ['PUT', '/v1/node/plans/p', JSON.stringify({ checksum: 'f'.repeat(64), document: { kind: 'Plan', instructions: [{ command: '/bin/true', timeout: 1 }] } }), 422, 'PLAN_CHECKSUM_MISMATCH'],
    ['PUT', '/v1/node/plans/p', JSON.stringify({ checksum: 'f'.repeat(64), document: { kind: 'Nope' } }), 422, 'PLAN_INVALID'],
    ['PUT', '/v1/node/plans/p', '{not json', 400, 'INVALID'],
    ['POST', '/v1/node/outbox/ack', '{"seq":"x"}', 400, 'INVALID'],
    ['GET', '/v1/node/nothing', undefined, 404, 'NOT_FOUND'],
  ];
  for (const [method, p, body, status, code] of cases) {
    const r = await call(method, p, body);
    t.equal(r.status, status, `${method} ${p} ${body ?? ''}`);
    const parsed = targetErrorSchema.safeParse(r.json);
    t.ok(parsed.success, `uniform body: ${JSON.stringify(r.json)}`);
    t.equal(parsed.data?.error.code, code);
  }
});
