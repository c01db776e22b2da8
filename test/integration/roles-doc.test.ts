// docs/roles.md shows exactly the table the roles e2e test performs (test/e2e/role-table.ts).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { roleTableMarkdown, ROLE_TABLE } from '../e2e/role-table.ts';

t.test('docs/roles.md holds the tested table of verbs × resources', async (t) => {
  const doc = readFileSync(new URL('../../docs/roles.md', import.meta.url), 'utf8');
  t.ok(doc.includes(roleTableMarkdown()), 'the table in docs/roles.md is the one the e2e test checks (regenerate it from role-table.ts)');
  t.equal(new Set(ROLE_TABLE.map((r) => r.id)).size, ROLE_TABLE.length, 'row ids are unique');
});
