import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dataDirSealer, SECRETS_KEY_FILE, SealedValueError, sealerWithKey } from './sealed-value.ts';

t.test('sealed value: opens with the same key and purpose only', async (t) => {
  const s = sealerWithKey(randomBytes(32));
  const sealed = s.seal('bind-password-1', 'provider:corp');
  t.notMatch(sealed, /bind-password/);
  t.equal(s.open(sealed, 'provider:corp'), 'bind-password-1');
  t.throws(() => s.open(sealed, 'provider:other'), SealedValueError, 'bound to its purpose');
  t.throws(() => sealerWithKey(randomBytes(32)).open(sealed, 'provider:corp'), SealedValueError, 'another key');
  const [v, iv, body = '', tag] = sealed.split('.');
  const flipped = [v, iv, (body[0] === 'A' ? 'B' : 'A') + body.slice(1), tag].join('.');
  t.throws(() => s.open(flipped, 'provider:corp'), SealedValueError, 'tampered');
  t.not(s.seal('x', 'p'), s.seal('x', 'p'), 'fresh IV each time');
});

t.test('sealed value: the data dir key is made once, 0600, and reused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-sealed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sealed = dataDirSealer(dir).seal('secret', 'p');
  t.equal(statSync(join(dir, SECRETS_KEY_FILE)).mode & 0o777, 0o600);
  t.equal(dataDirSealer(dir).open(sealed, 'p'), 'secret');
});
