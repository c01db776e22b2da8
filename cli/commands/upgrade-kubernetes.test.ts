// The release directory `drover upgrade kubernetes --from DIR` reads: published checksums in
// sha256sum's format or NAME.sha256 files, every binary hashed against them before anything is sent.
import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readReleaseChecksums, verifiedRelease } from './upgrade-kubernetes.ts';
import { CliError } from '../admin-client.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

t.test('release dir: sha256sums (with * and ./) or NAME.sha256; other files ignored', async (t) => {
  const dir = t.testdir({ 'kube-apiserver': 'api', kubelet: 'let', README: 'x', 'kubelet.sha256': `${sha('let')}  kubelet\n`, sha256sums: `${sha('api').toUpperCase()} *./kube-apiserver\n${sha('x')}  README\n` });
  t.same([...readReleaseChecksums(dir, ['kube-apiserver', 'kubelet']).entries()].sort(), [['kube-apiserver', sha('api')], ['kubelet', sha('let')]]);
  t.same(await verifiedRelease(dir, 'binaries'), [{ name: 'kube-apiserver', sha256: sha('api') }, { name: 'kubelet', sha256: sha('let') }]);
});

t.test('release dir: a binary that does not match its published checksum is refused (exit 1); a missing checksum or no binary is a usage error', async (t) => {
  const dir = t.testdir({ 'kube-apiserver': 'api', sha256sums: `${sha('other')}  kube-apiserver\n` });
  await t.rejects(verifiedRelease(dir, 'binaries'), { exitCode: 1, message: /refused: .*kube-apiserver has SHA-256 [0-9a-f]{64}, but its published checksum is/ });
  writeFileSync(join(dir, 'sha256sums'), '');
  await t.rejects(verifiedRelease(dir, 'binaries'), { exitCode: 2, message: /no published SHA-256 for kube-apiserver/ });
  await t.rejects(verifiedRelease(dir, 'k3s'), { exitCode: 2, message: /none of the k3s distribution's binaries/ });
  await t.rejects(verifiedRelease(join(dir, 'nope'), 'binaries'), CliError);
});
