// Every packaging error code is documented in docs/errors-packaging.md, and every documented
// code exists (STYLE.md 5: registry, docs and exports kept in sync by a test).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PACKAGING_ERRORS, PackagingError } from './errors.ts';

const doc = fs.readFileSync(path.resolve(import.meta.dirname, '..', 'docs', 'errors-packaging.md'), 'utf8');
const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);

t.test('packaging errors: code registry and docs/errors-packaging.md list the same codes', async (t) => {
  t.same([...documented].sort(), Object.values(PACKAGING_ERRORS).sort());
});

t.test('packaging errors: keys equal their values, and errors carry the code', async (t) => {
  for (const [k, v] of Object.entries(PACKAGING_ERRORS)) t.equal(k, v);
  const err = new PackagingError(PACKAGING_ERRORS.BUILD_OVER_BUDGET, 'too big');
  t.equal(err.code, 'BUILD_OVER_BUDGET');
  t.ok(err instanceof Error);
});
