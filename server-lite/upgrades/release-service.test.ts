// A replica without a release's file fetches it from the database once, however many agents it
// upgrades at the same time (they used to race on one temporary file), and checks it.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ReleaseService } from './release-service.ts';
import type { ReleaseRecord, UpgradeRecords } from './upgrade-records.ts';

const bytes = Buffer.from('an executable, as the database holds it');
const release: ReleaseRecord = {
  version: '0.3.0', arch: 'amd64', artifact: 'drover-linux-amd64', sha256: createHash('sha256').update(bytes).digest('hex'),
  size: bytes.length, sums: '', signature: '', file: 'releases/0.3.0/drover-linux-amd64', importedAt: 0,
};

function service(dir: string, content: Buffer): { svc: ReleaseService; reads: () => number } {
  let reads = 0;
  // Only readArtifact is used by localFile: the rest of the interface is not reached.
  const records = {
    async readArtifact(_v: string, _a: string, dest: string): Promise<boolean> {
      reads++;
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(dest, content);
      return true;
    },
  } as unknown as UpgradeRecords;
  return { svc: new ReleaseService({ dataDir: dir, records, publicKey: () => undefined, now: Date.now }), reads: () => reads };
}

t.test('concurrent agents share one fetch from the database', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-release-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { svc, reads } = service(dir, bytes);
  const files = await Promise.all(Array.from({ length: 5 }, () => svc.localFile(release)));
  t.equal(new Set(files).size, 1);
  t.equal(reads(), 1, 'one read for five agents');
  t.same(readFileSync(files[0] ?? ''), bytes);
  await svc.localFile(release);
  t.equal(reads(), 1, 'the local copy is used afterwards');
});

t.test('a copy that does not match the signed checksum is refused and not kept', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'drover-release-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { svc } = service(dir, Buffer.from('tampered bytes of the same len!!!!!!!!!'));
  await t.rejects(svc.localFile(release), { code: 'CHECKSUM_MISMATCH' });
  await t.rejects(svc.localFile(release), { code: 'CHECKSUM_MISMATCH' }, 'fetched again, not served from a failed attempt');
});
