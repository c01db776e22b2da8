import t from 'tap';
import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from './passwords.ts';

/** Flips a character in the middle of the key (the last one carries padding bits). */
const mangle = (s: string): string => {
  const i = s.length - 10;
  return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
};

t.test('passwords: the right password verifies, a wrong one or a mangled hash does not', async (t) => {
  const stored = await hashPassword('correct horse', randomBytes);
  t.match(stored, /^scrypt\$32768\$8\$1\$/);
  t.ok(await verifyPassword('correct horse', stored));
  t.notOk(await verifyPassword('correct horsE', stored));
  t.notOk(await verifyPassword('correct horse', mangle(stored)));
  t.notOk(await verifyPassword('correct horse', 'sha256$abc'));
  t.not(await hashPassword('correct horse', randomBytes), stored, 'salted');
});
