import t from 'tap';
import { and, equalityFilter, escapeFilterValue } from './ldap-filter.ts';

t.test('ldap filter: RFC 4515 special characters are escaped, so `*)(uid=*` is one literal value', async (t) => {
  t.equal(escapeFilterValue('*)(uid=*'), '\\2a\\29\\28uid=\\2a');
  t.equal(equalityFilter('uid', '*)(uid=*'), '(uid=\\2a\\29\\28uid=\\2a)');
  t.equal(escapeFilterValue('a\\b\u0000c'), 'a\\5cb\\00c');
  t.equal(escapeFilterValue('alice'), 'alice');
  t.equal(escapeFilterValue('é'), '\\c3\\a9', 'non-ASCII bytes are escaped too');
  t.equal(escapeFilterValue('uid=alice,ou=people,dc=x'), 'uid=alice,ou=people,dc=x', 'DN punctuation outside the four is literal');
});

t.test('ldap filter: attribute names are checked, not escaped', async (t) => {
  t.equal(equalityFilter('memberUid', 'x'), '(memberUid=x)');
  t.throws(() => equalityFilter('uid)(cn', 'x'), /not an LDAP attribute name/);
  t.throws(() => equalityFilter('', 'x'));
});

t.test('ldap filter: and() joins filters and leaves a single one alone', async (t) => {
  t.equal(and('(a=1)', '(b=2)'), '(&(a=1)(b=2))');
  t.equal(and('(a=1)', ''), '(a=1)');
});
