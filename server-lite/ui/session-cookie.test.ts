import t from 'tap';
import { clearedSessionCookie, csrfToken, csrfValid, parseCookies, sameOrigin, sessionBearer, sessionCookie, SESSION_COOKIE } from './session-cookie.ts';

t.test('session cookie: HttpOnly, Secure, SameSite=Strict, __Host- prefixed, round-trips the bearer', async (t) => {
  const c = sessionCookie('t-abc.def', 60);
  t.match(c, /^__Host-drover-ui=/);
  for (const attr of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/', 'Max-Age=60']) t.ok(c.split('; ').includes(attr), attr);
  t.notMatch(c, /Domain=/i);
  const value = c.split(';')[0] ?? '';
  t.equal(sessionBearer(`other=1; ${value}`), 't-abc.def');
  t.match(clearedSessionCookie(), /Max-Age=0/);
  t.equal(sessionBearer(undefined), undefined);
  t.equal(sessionBearer(`${SESSION_COOKIE}=%E0%A4%A`), undefined, 'a malformed escape is no session');
  t.same([...parseCookies('a=1; a=2; b; =3; c=x=y')], [['a', '1'], ['c', 'x=y']]);
});

t.test('csrf: bound to the session bearer and the key; anything else is refused', async (t) => {
  const tok = csrfToken('key', 'bearer-1');
  t.ok(csrfValid('key', 'bearer-1', tok));
  t.notOk(csrfValid('key', 'bearer-2', tok), 'another session');
  t.notOk(csrfValid('other-key', 'bearer-1', tok), 'another server key');
  t.notOk(csrfValid('key', 'bearer-1', undefined));
  t.notOk(csrfValid('key', 'bearer-1', `${tok}x`));
  t.notOk(csrfValid('key', 'bearer-1', ''));
});

t.test('sameOrigin: another origin or a malformed one is refused, none is left to the CSRF token', async (t) => {
  t.ok(sameOrigin({ origin: 'https://127.0.0.1:9443', host: '127.0.0.1:9443' }));
  t.notOk(sameOrigin({ origin: 'https://evil.example', host: '127.0.0.1:9443' }));
  t.notOk(sameOrigin({ referer: 'https://evil.example/x', host: '127.0.0.1:9443' }));
  t.notOk(sameOrigin({ origin: 'null', host: '127.0.0.1:9443' }));
  t.ok(sameOrigin({ host: '127.0.0.1:9443' }));
});
