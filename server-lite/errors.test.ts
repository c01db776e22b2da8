// Keeps the error registry and docs/errors-server.md in sync, both ways, with matching statuses.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVER_ERRORS, ServerError, errorBody, type ServerErrorCode } from './errors.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../docs/errors-server.md'), 'utf8');
const documented = new Map<string, number>();
for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1] ?? '', Number(m[2]));

t.test('errors: every registry code is documented with its status', async (t) => {
  for (const [code, info] of Object.entries(SERVER_ERRORS)) t.equal(documented.get(code), info.status, code);
});

t.test('errors: every documented code exists in the registry', async (t) => {
  for (const code of documented.keys()) t.ok(code in SERVER_ERRORS, code);
});

t.test('errors: ServerError carries code, status and the registry message by default', async (t) => {
  const e = new ServerError('TOKEN_EXPIRED');
  t.equal(e.status, 401);
  t.equal(e.code, 'TOKEN_EXPIRED');
  t.same(errorBody('OVERLOADED'), { error: { code: 'OVERLOADED', message: SERVER_ERRORS.OVERLOADED.message } });
  for (const code of Object.keys(SERVER_ERRORS) as ServerErrorCode[]) {
    const status = SERVER_ERRORS[code].status;
    t.ok(status >= 400 && status < 600, `${code} is an error status`);
  }
});
