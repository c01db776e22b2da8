import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretStore } from './secret-store.ts';
import { secretProblem } from './source-secret.ts';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

t.test('secret store: values are sealed at rest, readable back, listed without values', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-secrets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = new SecretStore(dir);
  s.put({ name: 'git-cred', type: 'basic-auth', data: { username: 'alice', password: 'pa55-very-secret' } }, 1);
  s.put({ name: 'ssh-key', type: 'ssh', data: { privateKey: KEY, knownHosts: 'host ssh-ed25519 AAAA' } }, 2);
  t.same(s.get('git-cred')?.data, { username: 'alice', password: 'pa55-very-secret' });
  t.same(s.list().map((x) => [x.name, x.type, x.fields]), [['git-cred', 'basic-auth', ['password', 'username']], ['ssh-key', 'ssh', ['knownHosts', 'privateKey']]]);
  s.close();
  for (const f of ['secrets.db', 'secrets.key']) t.equal(statSync(join(dir, f)).mode & 0o777, 0o600, `${f} is 0600`);
  const raw = readFileSync(join(dir, 'secrets.db'));
  t.notOk(raw.includes('pa55-very-secret'), 'the password is not in the database file');
  t.notOk(raw.includes('OPENSSH'), 'the key is not in the database file');
});

t.test('secret store: an existing name is replaced only on request; a moved row does not open', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-secrets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = new SecretStore(dir);
  s.put({ name: 'a', type: 'token', data: { token: 'one' } }, 1);
  t.throws(() => s.put({ name: 'a', type: 'token', data: { token: 'two' } }, 2), { code: 'SECRET_EXISTS' });
  s.put({ name: 'a', type: 'token', data: { token: 'two' } }, 3, { replace: true });
  t.equal(s.get('a')?.data.token, 'two');
  s.put({ name: 'b', type: 'token', data: { token: 'three' } }, 4);
  s.close();
  // Copy b's sealed value onto a: authenticated data (the name) makes it fail instead of leaking b.
  const db = new Database(join(dir, 'secrets.db'));
  db.prepare("UPDATE source_secrets SET sealed = (SELECT sealed FROM source_secrets WHERE name = 'b') WHERE name = 'a'").run();
  db.close();
  const again = new SecretStore(dir);
  t.throws(() => again.get('a'), /cannot be opened/);
  t.equal(again.get('b')?.data.token, 'three');
  t.ok(again.delete('a'));
  t.notOk(again.delete('a'));
  again.close();
});

t.test('secret validation: types, fields and names; messages never carry values', async (t) => {
  t.equal(secretProblem({ name: 'x', type: 'basic-auth', data: { username: 'u', password: 'p' } }), undefined);
  t.match(secretProblem({ name: 'x', type: 'basic-auth', data: { username: 'u' } }), /needs password/);
  t.match(secretProblem({ name: 'X_bad', type: 'token', data: { token: 't' } }), /DNS name/);
  t.match(secretProblem({ name: 'x', type: 'kerberos', data: {} }), /one of basic-auth, ssh, token, tls/);
  t.match(secretProblem({ name: 'x', type: 'ssh', data: { privateKey: 'hunter2', knownHosts: 'h' } }), /not a PEM/);
  t.notMatch(secretProblem({ name: 'x', type: 'ssh', data: { privateKey: 'hunter2', knownHosts: 'h' } }) ?? '', /hunter2/);
  t.match(secretProblem({ name: 'x', type: 'tls', data: { cert: 'c' } }), /cert and key together/);
  t.match(secretProblem({ name: 'x', type: 'token', data: { token: 't', password: 'p' } }), /no field password/);
});
