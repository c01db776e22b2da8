import t from 'tap';
import { randomBytes } from 'node:crypto';
import { codeChallenge, MAX_PENDING, PENDING_TTL_MS, PendingLogins } from './pending-logins.ts';

t.test('pending logins: a state is handed out once, for its provider, within its lifetime', async (t) => {
  const logins = new PendingLogins();
  const a = logins.start('dex', 'http://127.0.0.1:8250/callback', 1000, randomBytes);
  t.not(a.state, a.nonce);
  t.equal(logins.take('other', a.state, 1000), undefined, 'another provider');
  const b = logins.start('dex', 'http://127.0.0.1:8250/callback', 1000, randomBytes);
  t.same(logins.take('dex', b.state, 2000), b);
  t.equal(logins.take('dex', b.state, 2000), undefined, 'replayed');
  const c = logins.start('dex', 'x', 1000, randomBytes);
  t.equal(logins.take('dex', c.state, 1000 + PENDING_TTL_MS + 1), undefined, 'expired');
  t.equal(logins.take('dex', 'made-up', 1000), undefined);
});

t.test('pending logins: bounded, the oldest dropped first; expired ones swept', async (t) => {
  const logins = new PendingLogins();
  const first = logins.start('dex', 'x', 0, randomBytes);
  for (let i = 1; i < MAX_PENDING + 5; i++) logins.start('dex', 'x', i, randomBytes);
  t.equal(logins.size, MAX_PENDING);
  t.equal(logins.take('dex', first.state, 10), undefined);
  logins.start('dex', 'x', PENDING_TTL_MS * 3, randomBytes);
  t.equal(logins.size, 1);
});

t.test('pending logins: the PKCE challenge is S256 of the verifier (RFC 7636 appendix B)', async (t) => {
  t.equal(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});
