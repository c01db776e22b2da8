// A server backup taken after a CA rotation and with a local endpoint carries what issue 18 added,
// and a restore gives the same TLS identity back (same served chain, same endpoint CA).
import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensureTlsMaterial } from '../tls/tls-material.ts';
import { completeRotation, startRotation } from '../tls/ca-rotation.ts';
import { createBackup, restoreBackup } from '../backup/server-backup.ts';
import { ensureEndpointTls } from './endpoint-cert.ts';
import { accessDir, writeEndpointConfigs } from './endpoint-config.ts';
import { accessBackupFiles } from './backup-files.ts';

t.test('backup: CA rotation state and local endpoint CAs are backed up and restored', async (t) => {
  const root = t.testdir();
  const dir = join(root, 'server');
  const now = Date.parse('2026-12-05T00:00:00Z');
  ensureTlsMaterial(dir, ['localhost'], new Date(now));
  new Database(join(dir, 'server.db')).close();
  startRotation(dir, now, 0);
  completeRotation(dir);
  const served = ensureTlsMaterial(dir, ['localhost'], new Date(now + 1000));
  writeEndpointConfigs(dir, { c1: { enabled: true, listen: '0.0.0.0:9444', fqdn: null, updatedAt: now } });
  const endpoint = ensureEndpointTls(accessDir(dir), 'c1', ['localhost'], now);
  const files = accessBackupFiles(dir);
  for (const f of ['tls/chain.crt', 'tls/signer.crt', 'tls/signer.key', 'access/endpoints.json', 'access/c1/ca.crt', 'access/c1/ca.key']) t.ok(files.includes(f), f);
  t.ok(files.some((f) => f.startsWith('tls/retired/') && f.endsWith('.key')), 'the retired CA');

  const pass = Buffer.from('a long enough passphrase');
  const { sealed } = await createBackup(dir, pass, 'test');
  const restored = join(root, 'restored');
  await restoreBackup(sealed, pass, restored);
  const again = ensureTlsMaterial(restored, ['localhost'], new Date(now + 2000));
  t.equal(again.certPem, served.certPem, 'the same leaf and cross-signed chain are served after a restore');
  t.equal(again.caHash, served.caHash);
  t.equal(ensureEndpointTls(accessDir(restored), 'c1', ['localhost'], now + 2000).caPem, endpoint.caPem, 'the same endpoint CA: kubeconfigs stay valid');
  t.equal(readFileSync(join(restored, 'access/endpoints.json'), 'utf8'), readFileSync(join(dir, 'access/endpoints.json'), 'utf8'));
  t.equal(statSync(join(restored, 'access')).mode & 0o777, 0o700);
  t.equal(statSync(join(restored, 'access/c1/ca.key')).mode & 0o777, 0o600);
});
