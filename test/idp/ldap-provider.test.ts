// The LDAP provider against Debian's slapd (test/idp/slapd.ts): LDAPS and StartTLS with the CA
// pinned, the service bind, escaped user filters, the user's bind and groups from a search.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ldapLogin, ldapLookup } from '../../server-lite/auth/providers/ldap-provider.ts';
import { ProviderError } from '../../server-lite/auth/providers/provider-error.ts';
import type { LdapConfig } from '../../server-lite/auth/providers/provider-config.ts';
import { makePki } from '../k8s/certs.ts';
import { readFileSync } from 'node:fs';
import { LDAP_BASE, LDAP_PEOPLE, LDAP_READER, startSlapd } from './slapd.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-ldap-'));
const slapd = await startSlapd(dir);
t.teardown(async () => {
  await slapd.stop();
  rmSync(dir, { recursive: true, force: true });
});

const base = (over: Partial<LdapConfig> = {}): LdapConfig => ({
  kind: 'ldap',
  url: slapd.ldapsUrl,
  startTls: false,
  caPem: slapd.caPem,
  bindDn: LDAP_READER.dn,
  userBase: `ou=people,${LDAP_BASE}`,
  userAttribute: 'uid',
  userFilter: '(objectClass=inetOrgPerson)',
  groupBase: `ou=groups,${LDAP_BASE}`,
  groupMemberAttribute: 'member',
  groupNameAttribute: 'cn',
  groupFilter: '(objectClass=groupOfNames)',
  groupTtlSeconds: 300,
  ...over,
});
const problem = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof ProviderError ? err.problem : `other: ${(err as Error).message}`;
  }
};

t.test('ldap: a user logs in over LDAPS and over StartTLS, with groups from the group search', async (t) => {
  const alice = LDAP_PEOPLE.alice!;
  const viaLdaps = await ldapLogin(base(), LDAP_READER.password, 'alice', alice.password);
  t.same(viaLdaps, { subject: `uid=alice,ou=people,${LDAP_BASE}`, username: 'alice', groups: ['ops'] });
  const viaStartTls = await ldapLogin(base({ url: slapd.ldapUrl, startTls: true }), LDAP_READER.password, 'bob', LDAP_PEOPLE.bob!.password);
  t.same(viaStartTls?.groups, ['viewers']);
  t.same((await ldapLookup(base(), LDAP_READER.password, 'carol'))?.groups, [], 'a user in no group');
});

t.test('ldap: wrong or empty passwords and unknown users are refused alike', async (t) => {
  t.equal(await ldapLogin(base(), LDAP_READER.password, 'alice', 'wrong-password'), undefined);
  t.equal(await ldapLogin(base(), LDAP_READER.password, 'alice', ''), undefined, 'empty password is not an anonymous bind');
  t.equal(await ldapLogin(base(), LDAP_READER.password, 'nobody', 'x'), undefined);
  t.equal(await ldapLookup(base(), LDAP_READER.password, 'nobody'), undefined);
});

t.test('ldap: filter characters in user names are escaped: `*)(uid=*` and `*` match no one', async (t) => {
  for (const name of ['*)(uid=*', '*', 'alice)(|(uid=*', 'al*']) {
    t.equal(await ldapLogin(base(), LDAP_READER.password, name, LDAP_PEOPLE.alice!.password), undefined, name);
    t.equal(await ldapLookup(base(), LDAP_READER.password, name), undefined, name);
  }
});

t.test('ldap: a wrong bind password is misconfigured; a server not answering is unavailable; a CA not pinned fails TLS', async (t) => {
  t.equal(await problem(ldapLogin(base(), 'wrong', 'alice', 'x')), 'misconfigured');
  t.equal(await problem(ldapLogin(base({ url: 'ldaps://127.0.0.1:1' }), LDAP_READER.password, 'alice', 'x')), 'unavailable');
  const otherCa = readFileSync(makePki(join(dir, 'other-pki')).caCert, 'utf8');
  t.equal(await problem(ldapLogin(base({ caPem: otherCa }), LDAP_READER.password, 'alice', 'x')), 'unavailable', 'LDAPS with another CA');
  t.equal(await problem(ldapLogin(base({ url: slapd.ldapUrl, startTls: true, caPem: otherCa }), LDAP_READER.password, 'alice', 'x')), 'unavailable', 'StartTLS with another CA');
});

t.test('ldap: a name that matches several entries logs nobody in (and is no outage)', async (t) => {
  // Every person has objectClass inetOrgPerson: a search on it finds three entries.
  const ambiguous = base({ userAttribute: 'objectClass', userFilter: null });
  t.equal(await ldapLogin(ambiguous, LDAP_READER.password, 'inetOrgPerson', LDAP_PEOPLE.alice!.password), undefined);
  t.equal(await ldapLookup(ambiguous, LDAP_READER.password, 'inetOrgPerson'), undefined);
});
