// The plan agent's checks on delivered plans and its periodic instructions, on an in-memory database.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { checkPlan, planChecksum } from '../../protocol/index.ts';
import { PlanAgent } from './plan-agent.ts';
import { waitUntil } from '../common/test-fixtures.ts';

function agent(t: { teardown(fn: () => unknown): void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-plan-agent-'));
  const a = new PlanAgent({ db: new Database(':memory:'), dataDir: dir, log: pino({ level: 'silent' }), scanMs: 50 });
  t.teardown(async () => {
    await a.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { a, dir };
}

t.test('plan agent: a delivered plan is stored only when it is valid and hashes to the checksum named', async (t) => {
  const { a } = agent(t);
  const doc = { kind: 'Plan', instructions: [{ command: '/bin/true', timeout: 1 }] };
  const sum = planChecksum(checkPlan(doc).plan);
  t.match(a.accept('p', 'f'.repeat(64), doc), { status: 422, body: { error: { code: 'PLAN_CHECKSUM_MISMATCH' } } });
  t.match(a.accept('p', sum, { kind: 'Plan', instructions: [{ command: '/bin/true' }] }), { status: 422, body: { error: { code: 'PLAN_INVALID', message: /timeout: is required/ } } });
  t.same(a.resumePoint(), [], 'nothing stored');
  t.match(a.accept('p', sum, doc), { status: 200, body: { name: 'p', checksum: sum } });
  t.match(a.accept('p', sum, doc), { status: 200 }, 'the same delivery again is harmless');
});

t.test('plan agent: periodic instructions of a succeeded plan run every period and keep their last output', async (t) => {
  const { a } = agent(t);
  const doc = { kind: 'Plan', instructions: [{ command: '/bin/true', timeout: 1 }], periodicInstructions: [{ name: 'tick', command: '/bin/echo', args: ['tock'], timeout: 5, period: 1 }] };
  a.start();
  a.accept('periodic', planChecksum(checkPlan(doc).plan), doc);
  await waitUntil(() => a.store.periodic().length === 1, 20_000);
  t.match(a.store.periodic()[0], { name: 'periodic', instruction: 'tick', exitCode: 0, output: 'tock\n' });
});

