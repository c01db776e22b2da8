// A server backup carries the key of the identity providers' sealed secrets: a server restored
// from it still opens its providers' bind passwords and client secrets.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackup, restoreBackup } from '../../server-lite/backup/server-backup.ts';
import { dataDirSealer } from '../../server-lite/auth/providers/sealed-value.ts';
import { SqliteStore } from '../../server-lite/store/sqlite-store.ts';

t.test('backup: secrets.key (which opens the provider secrets) travels with the database', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'drover-idp-backup-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'server');
  const store = new SqliteStore(join(dir, 'server.db'));
  await store.close();
  const sealed = dataDirSealer(dir).seal('bind-password-1', 'provider:corp');
  const pass = Buffer.from('a passphrase of some length');
  const { sealed: file, manifest } = await createBackup(dir, pass, 'test');
  t.ok(manifest.files.some((f) => f.path === 'secrets.key'));
  const restored = join(root, 'restored');
  await restoreBackup(file, pass, restored);
  t.equal(dataDirSealer(restored).open(sealed, 'provider:corp'), 'bind-password-1');
});
