import t from 'tap';
import { httpError, networkError, parseRetryAfter } from './server-errors.ts';

t.test('server errors: token refusals keep the server code and map to exit 4', async (t) => {
  for (const code of ['TOKEN_EXPIRED', 'TOKEN_USED_UP', 'TOKEN_REVOKED', 'TOKEN_UNKNOWN', 'CREDENTIAL_REVOKED']) {
    const err = httpError(401, { error: { code, message: `because ${code}` } }, undefined, 'registration');
    t.equal(err.code, code);
    t.equal(err.exitCode, 4);
    t.equal(err.message, `because ${code}`);
  }
});

t.test('server errors: 503 OVERLOADED carries Retry-After', async (t) => {
  const err = httpError(503, { error: { code: 'OVERLOADED', message: 'busy' } }, 7000, 'registration');
  t.equal(err.code, 'OVERLOADED');
  t.equal(err.retryAfterMs, 7000);
  t.equal(httpError(503, undefined, 1000, 'x').code, 'OVERLOADED', 'a bare 503 with Retry-After is load shedding too');
});

t.test('server errors: unknown codes and bodies become SERVER_ERROR or CREDENTIAL_INVALID', async (t) => {
  t.equal(httpError(500, { error: { code: 'WHATEVER', message: 'm' } }, undefined, 'x').code, 'SERVER_ERROR');
  t.equal(httpError(404, 'not json', undefined, 'x').code, 'SERVER_ERROR');
  t.equal(httpError(401, undefined, undefined, 'x').code, 'CREDENTIAL_INVALID');
});

t.test('server errors: TLS identity failures are CA_MISMATCH (exit 5), the rest SERVER_UNREACHABLE (exit 3)', async (t) => {
  t.equal(networkError(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'https://s').exitCode, 5);
  t.equal(networkError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'https://s').code, 'CA_MISMATCH');
  const refused = networkError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'https://s');
  t.equal(refused.code, 'SERVER_UNREACHABLE');
  t.equal(refused.exitCode, 3);
});

t.test('server errors: Retry-After parses seconds and dates, clamped and never negative', async (t) => {
  t.equal(parseRetryAfter('5', 0), 5000);
  t.equal(parseRetryAfter(undefined, 0), undefined);
  t.equal(parseRetryAfter('soon', 0), undefined);
  t.equal(parseRetryAfter('999999', 0), 120_000);
  const now = Date.parse('2026-11-24T10:00:00Z');
  t.equal(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now), 30_000);
  t.equal(parseRetryAfter('Tue, 24 Nov 2026 09:00:00 GMT', now), 0);
});
