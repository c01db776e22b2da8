// The release and upgrade records' contract (decision 1111) on both stores: SQLite (the main
// store's file) and PostgreSQL (Debian's, test/pg/harness.ts). On PostgreSQL the executables'
// bytes are in the database too: a replica without the file fetches it, checked against the
// signed SHA-256 (ReleaseService.localFile).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { storeBackends } from '../../test/pg/store-backends.ts';
import type { Store } from '../store/store.ts';
import { PgStore } from '../store/pg-store.ts';
import { RELEASE_CHUNK_BYTES } from '../store/pg-upgrades.ts';
import { ReleaseService } from './release-service.ts';
import type { ReleaseRecord, RolloutRecord, UpgradeAgentRecord } from './upgrade-records.ts';

const open: Store[] = [];
const dir = mkdtempSync(join(tmpdir(), 'drover-upgrade-records-'));
t.teardown(async () => {
  for (const s of open) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const release = (version: string, arch: string, at: number, over: Partial<ReleaseRecord> = {}): ReleaseRecord => ({
  version, arch, artifact: `drover-linux-${arch}`, sha256: 'ab'.repeat(32), size: 10, sums: 'sums', signature: 'sig', file: `releases/${version}/drover-linux-${arch}`, importedAt: at, ...over,
});
const rollout = (id: string, version: string, at: number): RolloutRecord => ({ id, version, target: 'env=prod', maxUnavailable: '1', canary: 1, state: 'Running', message: '', createdAt: at, updatedAt: at });
const agent = (rolloutId: string, agentId: string, over: Partial<UpgradeAgentRecord> = {}): UpgradeAgentRecord => ({
  rolloutId, agentId, state: 'Pending', canary: false, fromVersion: '0.1.0', bytes: 0, total: 0, message: '', since: 5, assigned: false, ...over,
});

for (const backend of storeBackends(t)) {
  t.test(backend.name, async (t) => {
    const store = await backend.open();
    open.push(store);
    const u = store.upgrades;
    if (!u) throw new Error(`${backend.name} has no upgrade records`);

    t.test('releases', async (t) => {
      await u.putRelease(release('0.2.0', 'amd64', 20));
      await u.putRelease(release('0.1.0', 'arm64', 10));
      await u.putRelease(release('0.1.0', 'amd64', 10));
      await u.putRelease(release('0.2.0', 'amd64', 30, { sha256: 'cd'.repeat(32), size: 99 }));
      t.same((await u.releases()).map((r) => `${r.version}/${r.arch}`), ['0.1.0/amd64', '0.1.0/arm64', '0.2.0/amd64'], 'by import time, version, arch');
      t.same(await u.release('0.2.0', 'amd64'), release('0.2.0', 'amd64', 30, { sha256: 'cd'.repeat(32), size: 99 }), 'a re-import replaces the row');
      t.equal(await u.release('0.2.0', 'arm64'), undefined);
    });

    t.test('rollouts and agents', async (t) => {
      t.equal(await u.activeRollout(), undefined);
      await u.startRollout(rollout('r1', '0.1.0', 100), [agent('r1', 'b'), agent('r1', 'a', { canary: true })]);
      t.match(await u.activeRollout(), { id: 'r1', state: 'Running', canary: 1, target: 'env=prod' });
      t.same((await u.agents('r1')).map((a) => [a.agentId, a.canary, a.assigned]), [['a', true, false], ['b', false, false]], 'agents by id');
      await u.setRolloutState('r1', 'Halted', 'stopped: canary failed', 150);
      t.match(await u.activeRollout(), { id: 'r1', state: 'Halted', message: 'stopped: canary failed', updatedAt: 150 }, 'a halted rollout is still the active one');
      await u.startRollout(rollout('r2', '0.2.0', 200), [agent('r2', 'a')]);
      t.match(await u.latestRollout(), { id: 'r2', state: 'Running' });
      t.equal((await u.activeRollout())?.id, 'r2');
      const agents1 = await u.agents('r1');
      t.ok(agents1.length === 2, 'the old rollout keeps its agents');
      await u.setRolloutState('r2', 'Done', '', 300);
      t.equal(await u.activeRollout(), undefined, 'Done is not active');
      t.match(await u.latestRollout(), { id: 'r2', state: 'Done' });

      await u.putAgent(agent('r2', 'a', { state: 'Downloading', bytes: 5, total: 10, since: 250 }));
      await u.putAgent(agent('r2', 'c'));
      t.same(await u.agents('r2'), [agent('r2', 'a', { state: 'Downloading', bytes: 5, total: 10, since: 250 }), agent('r2', 'c')], 'put inserts or replaces');
      await u.markAssigned('r2', ['c', 'zz']);
      await u.markAssigned('r2', []);
      t.same((await u.agents('r2')).map((a) => [a.agentId, a.assigned]), [['a', false], ['c', true]], 'marked agents read assigned');
      await u.putAgent({ ...(await u.agents('r2'))[1]!, state: 'Downloading' });
      t.equal((await u.agents('r2'))[1]?.assigned, true, 'a later put keeps the mark it read');
    });

    t.test('executables: in the database on PostgreSQL, fetched by a replica without the file', async (t) => {
      if (!(store instanceof PgStore)) {
        t.equal(u.putArtifact, undefined, 'SQLite keeps executables as files only');
        return;
      }
      const bytes = Buffer.alloc(Math.floor(2.5 * RELEASE_CHUNK_BYTES));
      for (let i = 0; i < bytes.length; i += 4096) bytes.writeUInt32BE(i, i);
      const a = join(dir, 'replica-a');
      mkdirSync(join(a, 'releases/0.3.0'), { recursive: true });
      writeFileSync(join(a, 'releases/0.3.0/drover-linux-amd64'), bytes);
      t.equal(await u.readArtifact?.('0.3.0', 'amd64', join(dir, 'none')), false, 'nothing stored yet');
      t.notOk(existsSync(join(dir, 'none')), 'and no file written');
      await u.putArtifact?.('0.3.0', 'amd64', join(a, 'releases/0.3.0/drover-linux-amd64'));
      const rec = release('0.3.0', 'amd64', 40, { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
      await u.putRelease(rec);

      const other = await backend.reopen(store);
      open.push(other);
      const b = join(dir, 'replica-b');
      const svc = new ReleaseService({ dataDir: b, records: other.upgrades!, publicKey: () => undefined, now: () => 0 });
      const file = await svc.localFile((await other.upgrades!.release('0.3.0', 'amd64'))!);
      t.equal(file, join(b, 'releases/0.3.0/drover-linux-amd64'));
      t.ok(readFileSync(file).equals(bytes), 'the other replica has the same bytes');
      t.equal(await svc.localFile(rec), file, 'a second call uses the local copy');

      // A copy in the database that does not match the signed checksum is refused and not kept.
      const c = join(dir, 'replica-c');
      await u.putRelease({ ...rec, version: '0.4.0', file: 'releases/0.4.0/drover-linux-amd64' });
      await u.putArtifact?.('0.4.0', 'amd64', join(a, 'releases/0.3.0/drover-linux-amd64'));
      const bad = { ...rec, version: '0.4.0', file: 'releases/0.4.0/drover-linux-amd64', sha256: 'ef'.repeat(32) };
      const svcC = new ReleaseService({ dataDir: c, records: u, publicKey: () => undefined, now: () => 0 });
      await t.rejects(svcC.localFile(bad), { code: 'CHECKSUM_MISMATCH' });
      t.notOk(existsSync(join(c, 'releases/0.4.0/drover-linux-amd64')), 'nothing kept');
      await t.rejects(svcC.localFile({ ...rec, version: '0.9.9', file: 'releases/0.9.9/drover-linux-amd64' }), { code: 'RELEASE_NOT_FOUND' });

      // Deleted and imported again under the same version with other bytes of the same size: the
      // replica that fetched the first ones must not serve its old copy.
      t.same(await u.deleteVersion('0.3.0'), 1);
      t.equal(await u.readArtifact?.('0.3.0', 'amd64', join(dir, 'gone')), false, 'the bytes left the database with the row');
      const rebuilt = Buffer.from(bytes);
      rebuilt.writeUInt32BE(0xdeadbeef, 0);
      writeFileSync(join(a, 'releases/0.3.0/drover-linux-amd64'), rebuilt);
      await u.putArtifact?.('0.3.0', 'amd64', join(a, 'releases/0.3.0/drover-linux-amd64'));
      const rec2 = { ...rec, sha256: createHash('sha256').update(rebuilt).digest('hex') };
      await u.putRelease(rec2);
      t.ok(readFileSync(await svc.localFile(rec2)).equals(rebuilt), 'the other replica fetched the new bytes');
      const fresh = new ReleaseService({ dataDir: b, records: other.upgrades!, publicKey: () => undefined, now: () => 0 });
      t.ok(readFileSync(await fresh.localFile(rec2)).equals(rebuilt), 'a restarted replica checks its copy once and serves it');
    });

    t.test('release delete: every architecture, refused while an upgrade to it is running or halted', async (t) => {
      const d = join(dir, `delete-${backend.name}`);
      const svc = new ReleaseService({ dataDir: d, records: u, publicKey: () => undefined, now: () => 0 });
      for (const arch of ['amd64', 'arm64']) {
        mkdirSync(join(d, 'releases/0.5.0'), { recursive: true });
        writeFileSync(join(d, `releases/0.5.0/drover-linux-${arch}`), arch);
        await u.putRelease(release('0.5.0', arch, 50, { file: `releases/0.5.0/drover-linux-${arch}` }));
      }
      await u.startRollout(rollout('r5', '0.5.0', 500), [agent('r5', 'a')]);
      await t.rejects(svc.delete('0.5.0'), { code: 'RELEASE_IN_USE', status: 409 });
      await u.setRolloutState('r5', 'Halted', 'canary failed', 510);
      await t.rejects(svc.delete('0.5.0'), { code: 'RELEASE_IN_USE' }, 'a halted rollout may still be resumed');
      t.ok(existsSync(join(d, 'releases/0.5.0/drover-linux-amd64')), 'nothing removed by a refusal');
      t.equal((await u.releases()).filter((r) => r.version === '0.5.0').length, 2);
      await u.setRolloutState('r5', 'Done', '', 520);
      t.same(await svc.delete('0.5.0'), { version: '0.5.0', removed: 2 });
      t.equal((await u.releases()).filter((r) => r.version === '0.5.0').length, 0);
      t.notOk(existsSync(join(d, 'releases/0.5.0')), 'the files are gone');
      await t.rejects(svc.delete('0.5.0'), { code: 'RELEASE_NOT_FOUND' });
      await t.rejects(svc.delete('../x'), { code: 'RELEASE_INVALID' }, 'not a path');
    });
  });
}
