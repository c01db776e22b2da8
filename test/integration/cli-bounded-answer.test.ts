// The CLI reads the server's answers with the one bounded reader (protocol/bounded-read.ts): an
// answer over the bound is refused with exit code 1 and a message, not read into memory; one
// within it reads as before. Against a real server on loopback.
import t from 'tap';
import { adminRequest, CliError } from '../../cli/admin-client.ts';
import { EXIT } from '../../cli/exit-codes.ts';
import { startTestServer } from './server-harness.ts';

t.test('CLI: an answer within the bound reads; one over it is refused with exit 1', async (t) => {
  const server = await startTestServer();
  t.teardown(() => server.close());
  const conn = { url: server.url, token: server.adminToken, ca: server.caPem };
  const ok = await adminRequest(conn, 'GET', '/v1/whoami');
  t.equal(ok.status, 200);
  const size = JSON.stringify(ok.body).length;
  t.ok(size > 10, `whoami answers ${size} bytes`);
  t.same((await adminRequest(conn, 'GET', '/v1/whoami', undefined, size)).body, ok.body, 'exactly at the bound: read');
  const err = await adminRequest(conn, 'GET', '/v1/whoami', undefined, size - 1).catch((e: unknown) => e);
  t.ok(err instanceof CliError, String(err));
  t.equal((err as CliError).exitCode, EXIT.FAILURE);
  t.match((err as CliError).message, new RegExp(`GET /v1/whoami: the server's answer over ${size - 1} bytes; refused`));
  t.equal((await adminRequest(conn, 'GET', '/v1/whoami')).status, 200, 'the server is fine afterwards');
});
