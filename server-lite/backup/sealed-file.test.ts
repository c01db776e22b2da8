import t from 'tap';
import { BackupError, openBackup, sealBackup } from './sealed-file.ts';

const pass = Buffer.from('correct horse battery staple');

t.test('sealed backup: round trip; a wrong passphrase, any changed byte and a truncation are refused', async (t) => {
  const archive = Buffer.from('the archive bytes '.repeat(100));
  const sealed = sealBackup(archive, pass);
  t.same(openBackup(sealed, pass), archive);
  t.notOk(sealed.includes(Buffer.from('the archive bytes')), 'the content is encrypted');
  const refused = (f: Buffer, p: Buffer, code: BackupError['code']) => t.throws(() => openBackup(f, p), { code });
  refused(sealed, Buffer.from('wrong horse battery staple'), 'BACKUP_UNREADABLE');
  for (const at of [20, Math.floor(sealed.length / 2), sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at] = (bad[at] ?? 0) ^ 1;
    t.throws(() => openBackup(bad, pass), BackupError, `byte ${at} changed`);
  }
  refused(sealed.subarray(0, 30), pass, 'BACKUP_UNREADABLE');
  refused(Buffer.from('PK\u0003\u0004 a zip'), pass, 'BACKUP_NOT_A_BACKUP');
  t.throws(() => sealBackup(archive, Buffer.from('short')), { code: 'BACKUP_PASSPHRASE_TOO_SHORT' });
});
