// Backup and restore of a server's data dir (decision 0807). A backup is taken while the server
// runs: the audit log's complete lines first, then SQLite online-backup snapshots of server.db and
// fleet.db (so the log is never ahead of the store: `audit verify` compares the two), the TLS identity (CA and serving keys) and the admin token, with a manifest of
// sha256 sums, as one tar.gz sealed with a passphrase (sealed-file.ts). Restore goes only into an
// empty or absent data dir, after the whole backup verified (tag, sums, SQLite integrity), through a
// temporary directory beside it that is renamed into place: nothing is overwritten, ever.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { create, extract } from 'tar';
import { BackupError, openBackup, sealBackup } from './sealed-file.ts';
import { accessBackupFiles } from '../access/backup-files.ts';
import { readDatastoreMarker } from '../store/datastore-marker.ts';

export const BACKUP_FORMAT = 1;
/** What a backup holds, relative to the data dir. */
const DATABASES = ['server.db', 'fleet.db', 'secrets.db', 'plans.db'] as const;
// secrets.key opens secrets.db (issue 19) and the identity providers' sealed secrets in server.db:
// the sealed backup holds it, like the TLS keys.
const FILES = ['admin-token', 'tls/ca.crt', 'tls/ca.key', 'tls/server.crt', 'tls/server.key', 'secrets.key'] as const;
const AUDIT_LOG = 'audit.log';
const MANIFEST = 'drover-backup.json';

export interface BackupManifest {
  format: number;
  createdAt: string;
  version: string;
  files: { path: string; bytes: number; sha256: string }[];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function drain(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The audit log up to its last complete line (a line being written is left for the next backup). */
async function completeLines(path: string): Promise<Buffer> {
  if (!existsSync(path)) return Buffer.alloc(0);
  const all = await readFile(path);
  const end = all.lastIndexOf(0x0a);
  return end < 0 ? Buffer.alloc(0) : all.subarray(0, end + 1);
}

/** Takes a backup of `dataDir` (the server may be running) and returns the sealed file's bytes. */
export async function createBackup(dataDir: string, passphrase: Buffer, version: string, now = new Date()): Promise<{ sealed: Buffer; manifest: BackupManifest }> {
  // Issue 17: a server on PostgreSQL keeps its store there; server.db here would be stale (decision 1023).
  const pg = readDatastoreMarker(dataDir);
  if (pg) {
    throw new BackupError(
      'BACKUP_POSTGRES',
      `the server of ${dataDir} keeps its store in PostgreSQL (${pg.url}); this backup would hold a stale server.db. Back the database up with pg_dump --format=custom, and this data dir (TLS CA and keys, admin token, secrets.key, fleet/plan files) with a file copy: docs/decisions/1023-ha-bootstrap-and-backups-on-postgresql.md`,
    );
  }
  if (!existsSync(join(dataDir, 'server.db'))) throw new BackupError('BACKUP_NOT_A_BACKUP', `${dataDir} holds no server.db: not a Drover server data dir`);
  const work = await mkdtemp(join(tmpdir(), 'drover-backup-'));
  try {
    await chmod(work, 0o700);
    await mkdir(join(work, 'tls'), { mode: 0o700 });
    const files: BackupManifest['files'] = [];
    const add = async (rel: string, bytes: Buffer): Promise<void> => {
      await writeFile(join(work, rel), bytes, { mode: 0o600 });
      files.push({ path: rel, bytes: bytes.length, sha256: sha256(bytes) });
    };
    // The log first: the store snapshot taken after it holds at least every row the log has.
    await add(AUDIT_LOG, await completeLines(join(dataDir, AUDIT_LOG)));
    for (const name of DATABASES) {
      const src = join(dataDir, name);
      if (!existsSync(src)) continue;
      const db = new Database(src, { readonly: true, fileMustExist: true });
      try {
        await db.backup(join(work, name));
      } finally {
        db.close();
      }
      await add(name, await readFile(join(work, name)));
    }
    // Issue 18: CA rotation state, local endpoint CAs, a server URL change (access/backup-files.ts).
    for (const rel of [...FILES, ...accessBackupFiles(dataDir)]) {
      const src = join(dataDir, rel);
      if (!existsSync(src)) continue;
      await mkdir(dirname(join(work, rel)), { recursive: true, mode: 0o700 });
      await add(rel, await readFile(src));
    }
    const manifest: BackupManifest = { format: BACKUP_FORMAT, createdAt: now.toISOString(), version, files };
    await writeFile(join(work, MANIFEST), JSON.stringify(manifest, null, 2), { mode: 0o600 });
    const archive = await drain(create({ gzip: true, cwd: work, portable: true }, [MANIFEST, ...files.map((f) => f.path)]) as AsyncIterable<Buffer>);
    return { sealed: sealBackup(archive, passphrase), manifest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Opens, extracts into `into` and checks a backup: tag, manifest, sums, SQLite integrity. */
async function unpack(sealed: Buffer, passphrase: Buffer, into: string): Promise<BackupManifest> {
  const archive = openBackup(sealed, passphrase);
  const tarball = join(into, '.archive.tgz');
  await writeFile(tarball, archive, { mode: 0o600 });
  try {
    // Regular files and directories only: no links or devices land in a data dir.
    await extract({ file: tarball, cwd: into, strict: true, preservePaths: false, preserveOwner: false, filter: (_p, entry) => ('type' in entry ? entry.type === 'File' || entry.type === 'Directory' : true) });
  } catch (err) {
    throw new BackupError('BACKUP_UNREADABLE', `the backup's archive is damaged: ${(err as Error).message}`);
  } finally {
    await rm(tarball, { force: true });
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(join(into, MANIFEST), 'utf8')) as BackupManifest;
  } catch {
    throw new BackupError('BACKUP_UNREADABLE', `the backup has no readable ${MANIFEST}`);
  }
  if (manifest.format !== BACKUP_FORMAT) throw new BackupError('BACKUP_UNREADABLE', `backup format ${manifest.format} is not one this drover reads (${BACKUP_FORMAT})`);
  for (const f of manifest.files) {
    const path = resolve(into, f.path);
    if (!path.startsWith(`${resolve(into)}/`)) throw new BackupError('BACKUP_UNREADABLE', `the backup names a file outside the data dir: ${f.path}`);
    const bytes = await readFile(path).catch(() => undefined);
    if (!bytes || sha256(bytes) !== f.sha256) throw new BackupError('BACKUP_UNREADABLE', `${f.path} in the backup does not match its checksum`);
  }
  if (!manifest.files.some((f) => f.path === 'server.db')) throw new BackupError('BACKUP_UNREADABLE', 'the backup holds no server.db');
  for (const name of DATABASES) {
    if (!manifest.files.some((f) => f.path === name)) continue;
    const db = new Database(join(into, name), { readonly: true, fileMustExist: true });
    try {
      const check = db.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new BackupError('BACKUP_UNREADABLE', `${name} in the backup fails SQLite's integrity check: ${String(check)}`);
    } finally {
      db.close();
    }
    // A read-only open of a WAL database leaves its side files behind: they are not part of it.
    for (const side of ['-wal', '-shm']) await rm(join(into, `${name}${side}`), { force: true });
  }
  return manifest;
}

/** `drover server backup verify FILE`: everything restore checks, nothing written but a temp dir. */
export async function verifyBackup(sealed: Buffer, passphrase: Buffer): Promise<BackupManifest> {
  const work = await mkdtemp(join(tmpdir(), 'drover-verify-'));
  try {
    return await unpack(sealed, passphrase, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Restores into `dataDir`, which must be absent or empty; nothing is written there unless all checks pass. */
export async function restoreBackup(sealed: Buffer, passphrase: Buffer, dataDir: string): Promise<BackupManifest> {
  const target = resolve(dataDir);
  const st = await stat(target).catch(() => undefined);
  if (st && (!st.isDirectory() || (await readdir(target)).length > 0)) {
    throw new BackupError('BACKUP_NOT_A_BACKUP', `${target} is not empty: restore only into a new or empty data dir (nothing was changed)`);
  }
  await mkdir(dirname(target), { recursive: true });
  const work = await mkdtemp(join(dirname(target), `.${basename(target)}.restore-`));
  try {
    await chmod(work, 0o700);
    const manifest = await unpack(sealed, passphrase, work);
    await rm(join(work, MANIFEST), { force: true });
    for (const f of manifest.files) await chmod(join(work, f.path), f.path.endsWith('.crt') ? 0o644 : 0o600);
    if (existsSync(join(work, 'tls'))) await chmod(join(work, 'tls'), 0o700);
    // Every directory the backup holds files in (tls/retired, access/<cluster>, …) is 0700, as at the source.
    const dirs = new Set<string>();
    for (const f of manifest.files) for (let d = dirname(f.path); d !== '.'; d = dirname(d)) dirs.add(d);
    for (const d of dirs) await chmod(join(work, d), 0o700);
    if (st) {
      // An existing empty dir may be a mount point or a symlink: fill it instead of replacing it.
      for (const name of await readdir(work)) {
        await rename(join(work, name), join(target, name)).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EXDEV') throw err;
          await cp(join(work, name), join(target, name), { recursive: true, errorOnExist: true, force: false });
        });
      }
      await rm(work, { recursive: true, force: true });
    } else {
      await rename(work, target);
    }
    return manifest;
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/** Scheduled backups: writes one into `dir` and keeps the newest `keep` (by name: they sort by time). */
export async function backupInto(dir: string, dataDir: string, passphrase: Buffer, version: string, keep: number, now = new Date()): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { sealed } = await createBackup(dataDir, passphrase, version, now);
  const name = `drover-backup-${now.toISOString().replace(/[:.]/g, '-')}.bak`;
  const tmp = join(dir, `.${name}.tmp`);
  await writeFile(tmp, sealed, { mode: 0o600 });
  await rename(tmp, join(dir, name));
  const all = (await readdir(dir)).filter((n) => /^drover-backup-.*\.bak$/.test(n)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(join(dir, old), { force: true });
  return join(dir, name);
}
