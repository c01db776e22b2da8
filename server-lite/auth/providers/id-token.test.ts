import t from 'tap';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { groupsClaim, ID_TOKEN_LIMITS, IdTokenError, stringClaim, verifyIdToken, type Jwk } from './id-token.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = (k: KeyObject, kid: string): Jwk => ({ ...(k.export({ format: 'jwk' }) as Jwk), kid, use: 'sig' });
const JWKS = [jwk(rsa.publicKey, 'r1'), jwk(ec.publicKey, 'e1')];
const NOW = 1_800_000_000_000;
const WANT = { issuer: 'https://idp.test/dex', clientId: 'drover', nonce: 'n-1', nowMs: NOW };
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function token(claims: Record<string, unknown>, opts: { alg?: string; kid?: string; key?: KeyObject } = {}): string {
  const alg = opts.alg ?? 'RS256';
  const head = `${b64({ alg, kid: opts.kid ?? (alg === 'ES256' ? 'e1' : 'r1'), typ: 'JWT' })}.${b64(claims)}`;
  const key = opts.key ?? (alg === 'ES256' ? ec.privateKey : rsa.privateKey);
  const sig = sign('sha256', Buffer.from(head), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${head}.${sig.toString('base64url')}`;
}
const good = { iss: WANT.issuer, aud: 'drover', sub: 'u-1', exp: NOW / 1000 + 600, iat: NOW / 1000, nonce: 'n-1', email: 'a@b.c', groups: ['ops', 'dev', 'ops'] };
const problem = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof IdTokenError ? err.problem : `other: ${(err as Error).message}`;
  }
};

t.test('id token: a token signed by the provider with our audience, nonce and time verifies (RS256 and ES256)', async (t) => {
  t.equal(verifyIdToken(token(good), JWKS, WANT).sub, 'u-1');
  t.equal(verifyIdToken(token(good, { alg: 'ES256' }), JWKS, WANT).sub, 'u-1');
  t.same(groupsClaim(verifyIdToken(token(good), JWKS, WANT), 'groups'), ['dev', 'ops'], 'deduplicated and sorted');
  t.equal(stringClaim(good, 'email'), 'a@b.c');
});

t.test('id token: each broken expectation is refused with its own problem', async (t) => {
  t.equal(problem(() => verifyIdToken(token(good, { key: other.privateKey }), JWKS, WANT)), 'signature');
  t.equal(problem(() => verifyIdToken(token(good, { kid: 'nope' }), JWKS, WANT)), 'unknown-key');
  t.equal(problem(() => verifyIdToken(token({ ...good, iss: 'https://evil.test' }), JWKS, WANT)), 'issuer');
  t.equal(problem(() => verifyIdToken(token({ ...good, aud: 'someone-else' }), JWKS, WANT)), 'audience');
  t.equal(problem(() => verifyIdToken(token({ ...good, aud: ['drover', 'x'] }), JWKS, WANT)), 'audience', 'several audiences need azp');
  t.equal(verifyIdToken(token({ ...good, aud: ['drover', 'x'], azp: 'drover' }), JWKS, WANT).sub, 'u-1');
  t.equal(problem(() => verifyIdToken(token({ ...good, exp: NOW / 1000 - 61 }), JWKS, WANT)), 'expired');
  t.equal(problem(() => verifyIdToken(token({ ...good, exp: undefined }), JWKS, WANT)), 'expired');
  t.equal(problem(() => verifyIdToken(token({ ...good, iat: NOW / 1000 + 3600 }), JWKS, WANT)), 'issued-in-future');
  t.equal(problem(() => verifyIdToken(token({ ...good, nonce: 'replayed' }), JWKS, WANT)), 'nonce');
  t.equal(problem(() => verifyIdToken(token({ ...good, sub: '' }), JWKS, WANT)), 'claim');
});

t.test('id token: alg none, HMAC and garbage are refused before any key is used', async (t) => {
  const unsigned = `${b64({ alg: 'none' })}.${b64(good)}.`;
  t.equal(problem(() => verifyIdToken(unsigned, JWKS, WANT)), 'malformed');
  t.equal(problem(() => verifyIdToken(`${b64({ alg: 'none' })}.${b64(good)}.AA`, JWKS, WANT)), 'algorithm');
  t.equal(problem(() => verifyIdToken(`${b64({ alg: 'HS256', kid: 'r1' })}.${b64(good)}.AA`, JWKS, WANT)), 'algorithm');
  t.equal(problem(() => verifyIdToken('a.b', JWKS, WANT)), 'malformed');
  t.equal(problem(() => verifyIdToken(`${b64([1])}.${b64(good)}.AA`, JWKS, WANT)), 'malformed');
});

t.test('id token: oversized tokens and claims are refused', async (t) => {
  const big = token({ ...good, pad: 'x'.repeat(ID_TOKEN_LIMITS.tokenBytes) });
  t.equal(problem(() => verifyIdToken(big, JWKS, WANT)), 'too-large');
  const many = Array.from({ length: ID_TOKEN_LIMITS.groups + 1 }, (_, i) => `g${i}`);
  t.equal(problem(() => groupsClaim({ groups: many }, 'groups')), 'claim');
  t.equal(problem(() => groupsClaim({ groups: ['x'.repeat(ID_TOKEN_LIMITS.groupChars + 1)] }, 'groups')), 'claim');
  t.equal(problem(() => groupsClaim({ groups: 'ops' }, 'groups')), 'claim');
  t.same(groupsClaim({}, 'groups'), [], 'no claim: no groups');
  t.equal(problem(() => stringClaim({ email: 'x'.repeat(ID_TOKEN_LIMITS.usernameChars + 1) }, 'email')), 'claim');
  t.equal(problem(() => stringClaim({}, 'email')), 'claim');
});
