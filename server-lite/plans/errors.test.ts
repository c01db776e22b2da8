// Keeps the plan error registry and docs/errors-plans.md in sync, both ways, with matching statuses.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PLAN_ERRORS, PlanError } from './errors.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/errors-plans.md'), 'utf8');
const documented = new Map<string, number>();
for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1] ?? '', Number(m[2]));

t.test('plan errors: every registry code is documented with its status, and every documented code exists', async (t) => {
  for (const [code, info] of Object.entries(PLAN_ERRORS)) t.equal(documented.get(code), info.status, code);
  t.ok(documented.size > 0, 'the table parsed');
  for (const code of documented.keys()) t.ok(code in PLAN_ERRORS, code);
  t.equal(new PlanError('PLAN_NOT_FOUND').status, 404);
});
