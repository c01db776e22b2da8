// `drover server migrate --from DIR --to postgres://…` (issue 17, decision 1022): copies a stopped
// server's main store (server.db: every table of store/migrations.ts and any table a later
// migration adds), its source secrets (secrets.db, still sealed) and its fleet data (fleet.db, issue 17
// decision 1100) into an empty PostgreSQL database in one transaction, then verifies row counts
// per table and the audit chain (verified end to end, same head as the source) before it commits:
// nothing is left in the target unless everything copied and verified. A non-empty target is refused.
// Also (decisions 1110, 1111): the node plans of plans.db into the plan tables, and each imported
// release's executable from DATA_DIR/releases/ into release_chunks, so every replica can deliver it.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { verifyChain } from '../audit/audit-chain.ts';
import { dataPaths, readServerRecord } from '../data-dir.ts';
import { redactUrl, type Arg, type Sql } from './pg-db.ts';
import { PgStore } from './pg-store.ts';
import { join } from 'node:path';
import { SOURCE_SECRETS_TABLE } from '../secrets-store/pg-secret-store.ts';
import { SqliteFleetStore } from '../fleet/sqlite-fleet-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import { SqlitePlanStore } from '../plans/sqlite-plan-store.ts';
import { insertArtifact, RELEASE_CHUNK_BYTES } from './pg-upgrades.ts';
import { auditFrom } from './sqlite-identity.ts';
import type { AuditRecord } from './store.ts';

export class MigrateError extends Error {
  override readonly name = 'MigrateError';
  readonly code: 'SOURCE_MISSING' | 'SOURCE_RUNNING' | 'TARGET_UNREACHABLE' | 'TARGET_NOT_EMPTY' | 'SCHEMA_MISMATCH' | 'VERIFY_FAILED';
  constructor(code: MigrateError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export interface MigrateReport {
  tables: TableCount[];
  audit: { rows: number; head: string | null };
}

const BATCH_PARAMS = 30_000;

/** plans.db's tables (plans/sqlite-plan-store.ts); on PostgreSQL they are migration 10's. */
const PLAN_TABLES: readonly string[] = ['plans', 'plan_nodes', 'plan_agent_seq'];
/** plans.db's `window` is `time_window` on PostgreSQL (a reserved word there). */
const PLAN_RENAMES: Readonly<Record<string, Readonly<Record<string, string>>>> = { plans: { window: 'time_window' } };

/** Whether a process with this pid is alive (the server record names the last server's pid). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Tables ordered so that each comes after the tables its foreign keys reference. */
export function dependencyOrder(tables: readonly string[], refs: ReadonlyArray<{ from: string; to: string }>): string[] {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: string): void => {
    if (state.get(t) === 'done' || state.get(t) === 'visiting') return;
    state.set(t, 'visiting');
    for (const r of refs) if (r.from === t && r.to !== t && tables.includes(r.to)) visit(r.to);
    state.set(t, 'done');
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return out;
}

async function countRows(sql: Sql, table: string): Promise<number> {
  return Number((await sql.one(`SELECT COUNT(*) AS n FROM "${table}"`))?.n ?? 0);
}

export async function migrateSqliteToPostgres(fromDir: string, toUrl: string, opts: { log?: (line: string) => void } = {}): Promise<MigrateReport> {
  const say = opts.log ?? (() => undefined);
  const dbPath = dataPaths(fromDir).database;
  if (!existsSync(dbPath)) throw new MigrateError('SOURCE_MISSING', `${dbPath} does not exist: --from must be a server's data dir`);
  const record = readServerRecord(fromDir);
  if (record && alive(record.pid)) throw new MigrateError('SOURCE_RUNNING', `the server of ${fromDir} is running (pid ${record.pid}): stop it first, so nothing changes while it is copied`);

  // Brings the source's schema to this version's (what starting this server would do), then reads it.
  await new SqliteStore(dbPath).close();
  const src = new Database(dbPath, { readonly: true, fileMustExist: true });
  const secretsPath = join(fromDir, 'secrets.db');
  const secretsDb = existsSync(secretsPath) ? new Database(secretsPath, { readonly: true, fileMustExist: true }) : undefined;
  const plansPath = join(fromDir, 'plans.db');
  if (existsSync(plansPath)) await new SqlitePlanStore(plansPath).close();
  const plansDb = existsSync(plansPath) ? new Database(plansPath, { readonly: true, fileMustExist: true }) : undefined;
  // The fleet's rows (fleet.db, its own migrations brought up to date first) go into the same tables in PostgreSQL.
  const fleetPath = join(fromDir, 'fleet.db');
  if (existsSync(fleetPath)) await new SqliteFleetStore(fleetPath).close();
  const fleetDb = existsSync(fleetPath) ? new Database(fleetPath, { readonly: true, fileMustExist: true }) : undefined;
  let target: PgStore;
  try {
    target = await PgStore.open(toUrl, { max: 2 });
  } catch (err) {
    src.close();
    secretsDb?.close();
    plansDb?.close();
    fleetDb?.close();
    throw new MigrateError('TARGET_UNREACHABLE', `cannot open ${redactUrl(toUrl)}: ${(err as Error).message}`);
  }
  try {
    const pg = target.db;
    const srcTables = (src.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'authz_generation') ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const pgTables = (await pg.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('schema_migrations', 'authz_generation')")).map((r) => String(r.table_name));
    const srcVersion = Number((src.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0);
    const pgVersion = Number((await pg.one('SELECT MAX(version) AS v FROM schema_migrations'))?.v ?? 0);
    if (srcVersion !== pgVersion) throw new MigrateError('SCHEMA_MISMATCH', `the source's schema is version ${srcVersion}, the target's ${pgVersion}`);
    const missing = srcTables.filter((t) => !pgTables.includes(t));
    if (missing.length) throw new MigrateError('SCHEMA_MISMATCH', `tables of the source missing in the target: ${missing.join(', ')}`);

    const busy: string[] = [];
    for (const t of pgTables) {
      const n = await countRows(pg, t);
      if (n > 0) busy.push(`${t}: ${n}`);
    }
    if (busy.length) throw new MigrateError('TARGET_NOT_EMPTY', `${redactUrl(toUrl)} already holds Drover data (${busy.join(', ')}); migrate only into an empty database`);

    const refs = (
      await pg.rows(
        `SELECT c.conrelid::regclass::text AS "from", c.confrelid::regclass::text AS "to"
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()`,
      )
    ).map((r) => ({ from: String(r.from).replace(/"/g, ''), to: String(r.to).replace(/"/g, '') }));
    // The main store's tables in foreign-key order, then the source secrets (secrets.db, sealed
    // under secrets.key, which moves with the data dir) into the table PgSecretStore reads.
    // server.db's own plan tables and release_chunks are empty on SQLite: plans.db and the release
    // files fill them instead.
    const own = srcTables.filter((t) => t !== 'release_chunks' && !(plansDb && PLAN_TABLES.includes(t)));
    const jobs: { db: Database.Database; table: string; rename?: Readonly<Record<string, string>> | undefined }[] = dependencyOrder(own, refs).map((table) => ({ db: src, table }));
    if (secretsDb) jobs.push({ db: secretsDb, table: 'source_secrets' });
    if (plansDb) for (const table of PLAN_TABLES) jobs.push({ db: plansDb, table, rename: PLAN_RENAMES[table] });
    if (fleetDb) {
      const fleetTables = (fleetDb.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'fleet_migrations' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      const absent = fleetTables.filter((t) => !pgTables.includes(t));
      if (absent.length) throw new MigrateError('SCHEMA_MISMATCH', `fleet.db tables missing in the target: ${absent.join(', ')}`);
      for (const table of fleetTables) jobs.push({ db: fleetDb, table });
    }

    const report = await pg.tx(async (sql): Promise<MigrateReport> => {
      if (secretsDb) await sql.run(SOURCE_SECRETS_TABLE);
      for (const { db, table, rename } of jobs) {
        const pgCols = (await sql.rows('SELECT column_name, is_identity FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position', [table])).map((r) => ({ name: String(r.column_name), identity: r.is_identity === 'YES' }));
        const srcCols = (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
        const to = (c: string): string => rename?.[c] ?? c;
        const extra = srcCols.filter((c) => !pgCols.some((p) => p.name === to(c)));
        if (extra.length) throw new MigrateError('SCHEMA_MISMATCH', `${table}: columns missing in the target: ${extra.join(', ')}`);
        const cols = srcCols;
        const perBatch = Math.max(1, Math.floor(BATCH_PARAMS / cols.length));
        const rows = db.prepare(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${table}"`).raw().iterate() as IterableIterator<unknown[]>;
        let batch: unknown[][] = [];
        let copied = 0;
        const flush = async (): Promise<void> => {
          if (batch.length === 0) return;
          const values = batch.map(() => `(${cols.map(() => '?').join(', ')})`).join(', ');
          await sql.run(`INSERT INTO "${table}" (${cols.map((c) => `"${to(c)}"`).join(', ')}) VALUES ${values}`, batch.flat() as Arg[]);
          copied += batch.length;
          batch = [];
        };
        for (const r of rows) {
          batch.push(r);
          if (batch.length >= perBatch) await flush();
        }
        await flush();
        // Identity columns (AUTOINCREMENT in SQLite) continue after the copied ids.
        for (const c of pgCols.filter((p) => p.identity)) {
          await sql.rows(`SELECT setval(pg_get_serial_sequence('"${table}"', '${c.name}'), GREATEST((SELECT MAX("${c.name}") FROM "${table}"), 1))`);
        }
        say(`copied ${table}: ${copied} rows`);
      }
      // Verified inside the transaction: a mismatch rolls everything back and the target stays empty.
      const tables: TableCount[] = [];
      for (const { db, table } of jobs) {
        const source = Number((db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n);
        tables.push({ table, source, target: await countRows(sql, table) });
      }
      // Release executables: the files of the source's data dir, as chunks (decision 1111).
      let chunks = 0;
      let bytes = 0;
      for (const r of src.prepare('SELECT version, arch, file, size FROM releases ORDER BY version, arch').all() as { version: string; arch: string; file: string; size: number }[]) {
        const file = join(fromDir, r.file);
        if (!existsSync(file)) throw new MigrateError('VERIFY_FAILED', `release ${r.version} ${r.arch}: ${file} is missing (import the release again, or remove it)`);
        await insertArtifact(sql, r.version, r.arch, file);
        chunks += Math.ceil(r.size / RELEASE_CHUNK_BYTES);
        bytes += r.size;
      }
      if (chunks > 0) say(`copied release_chunks: ${chunks} rows`);
      const stored = await sql.one('SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(bytes)), 0) AS b FROM release_chunks');
      tables.push({ table: 'release_chunks', source: chunks, target: Number(stored?.n ?? 0) });
      if (Number(stored?.b ?? 0) !== bytes) throw new MigrateError('VERIFY_FAILED', `release executables: ${bytes} bytes in the source, ${Number(stored?.b ?? 0)} stored`);
      const wrong = tables.filter((c) => c.source !== c.target);
      if (wrong.length) throw new MigrateError('VERIFY_FAILED', `row counts differ: ${wrong.map((c) => `${c.table} ${c.source} → ${c.target}`).join(', ')}`);
      let start: { seq: number; hash: string } | undefined;
      let rows = 0;
      for (;;) {
        const page: AuditRecord[] = (await sql.rows('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT 5000', [start?.seq ?? 0])).map(auditFrom);
        if (page.length === 0) break;
        const problem = verifyChain(page, start);
        if (problem) throw new MigrateError('VERIFY_FAILED', `the audit chain in the target fails at seq ${problem.seq} (${problem.reason})`);
        rows += page.length;
        const last = page.at(-1);
        start = last && { seq: last.seq, hash: last.hash };
      }
      const srcHead = src.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
      if ((srcHead?.hash ?? null) !== (start?.hash ?? null) || (srcHead?.seq ?? 0) !== (start?.seq ?? 0)) {
        throw new MigrateError('VERIFY_FAILED', `the audit chain's head differs: source seq ${srcHead?.seq ?? 0}, target seq ${start?.seq ?? 0}`);
      }
      return { tables, audit: { rows, head: start?.hash ?? null } };
    });

    return report;
  } finally {
    src.close();
    secretsDb?.close();
    plansDb?.close();
    fleetDb?.close();
    await target.close();
  }
}
