// Keeps the fleet error registry and docs/errors-fleet.md in sync, both ways, with matching statuses.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FLEET_ERRORS, FleetError, type FleetErrorCode } from './errors.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/errors-fleet.md'), 'utf8');
const documented = new Map<string, number>();
for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1] ?? '', Number(m[2]));

t.test('fleet errors: every registry code is documented with its status', async (t) => {
  for (const [code, info] of Object.entries(FLEET_ERRORS)) t.equal(documented.get(code), info.status, code);
});

t.test('fleet errors: every documented code exists in the registry', async (t) => {
  t.ok(documented.size > 0, 'the table parsed');
  for (const code of documented.keys()) t.ok(code in FLEET_ERRORS, code);
});

t.test('fleet errors: FleetError serialises to code, message and context', async (t) => {
  const e = new FleetError('TARGET_NO_MATCH', 'bundle web: target edge matches no cluster', { bundle: 'web', target: 'edge' });
  t.same(JSON.parse(JSON.stringify(e)), { code: 'TARGET_NO_MATCH', message: 'bundle web: target edge matches no cluster', bundle: 'web', target: 'edge' });
  t.equal(e.status, 400);
  for (const code of Object.keys(FLEET_ERRORS) as FleetErrorCode[]) t.equal(new FleetError(code).message, FLEET_ERRORS[code].message);
});
