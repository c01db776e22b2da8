// Keeps the release/upgrade error registries (server and shared) and docs/errors-upgrade.md in sync, both ways.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UPGRADE_ERRORS } from '../../protocol/release-errors.ts';
import { RELEASE_API_ERRORS, ReleaseApiError } from './errors.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/errors-upgrade.md'), 'utf8');
const documented = new Map<string, number>();
for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1] ?? '', Number(m[2]));

t.test('upgrade errors: every code is documented with its status, and every documented code exists', async (t) => {
  for (const code of [...Object.keys(RELEASE_API_ERRORS), ...Object.keys(UPGRADE_ERRORS)]) {
    const e = new ReleaseApiError(code as keyof typeof RELEASE_API_ERRORS);
    t.equal(documented.get(code), code === 'UPGRADE_BUSY' ? 409 : e.status, code);
  }
  for (const code of documented.keys()) t.ok(code in RELEASE_API_ERRORS || code in UPGRADE_ERRORS, code);
});
