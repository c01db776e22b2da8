// Source secrets on PostgreSQL (issue 17, decision 1021): the same sealed rows as secrets.db
// (secret-store.ts), in table source_secrets of the server's database, so every replica sees one
// set. Sealed with the replicas' shared secrets.key (decision 1023). The fleet reads secrets
// synchronously (SecretLookup) at every fetch, so reads come from an in-memory copy of the sealed
// rows: refreshed by this replica's own writes at once and from the database every few seconds
// (another replica's rotation reaches this one within that interval); values are opened on read.
import { join } from 'node:path';
import type { PgDb, Row } from '../store/pg-db.ts';
import { openValue, sealValue } from './seal.ts';
import { ensureSecretsKey, SECRETS_KEY_FILE, SecretStoreError, type SourceSecretStore } from './secret-store.ts';
import { isSecretType, secretProblem, type SecretSummary, type SourceSecret } from './source-secret.ts';

export const SOURCE_SECRETS_TABLE = `CREATE TABLE IF NOT EXISTS source_secrets (name TEXT PRIMARY KEY, type TEXT NOT NULL, sealed BYTEA NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`;

/** How often the copy is re-read from the database. */
export const SECRETS_REFRESH_MS = 3000;

type Sealed = { name: string; type: string; sealed: Buffer; createdAt: number; updatedAt: number };

const sealedFrom = (r: Row): Sealed => ({ name: String(r.name), type: String(r.type), sealed: r.sealed as Buffer, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) });

export class PgSecretStore implements SourceSecretStore {
  readonly #db: PgDb;
  readonly #key: Buffer;
  #rows = new Map<string, Sealed>();
  #timer: NodeJS.Timeout | undefined;

  private constructor(db: PgDb, key: Buffer) {
    this.#db = db;
    this.#key = key;
  }

  static async open(db: PgDb, dataDir: string, opts: { refreshMs?: number } = {}): Promise<PgSecretStore> {
    const s = new PgSecretStore(db, ensureSecretsKey(join(dataDir, SECRETS_KEY_FILE)));
    await db.run(SOURCE_SECRETS_TABLE);
    await s.refresh();
    const every = opts.refreshMs ?? SECRETS_REFRESH_MS;
    if (every > 0) {
      // A failed refresh (database down) keeps the last copy; the next one tries again.
      s.#timer = setInterval(() => void s.refresh().catch(() => undefined), every);
      s.#timer.unref();
    }
    return s;
  }

  /** Re-reads every sealed row from the database. */
  async refresh(): Promise<void> {
    const rows = await this.#db.rows('SELECT * FROM source_secrets ORDER BY name');
    this.#rows = new Map(rows.map((r) => [String(r.name), sealedFrom(r)]));
  }

  async put(s: SourceSecret, now: number, opts: { replace?: boolean } = {}): Promise<void> {
    const problem = secretProblem(s);
    if (problem) throw new SecretStoreError('SECRET_INVALID', problem);
    const sealed = sealValue(this.#key, s.name, s.type, Buffer.from(JSON.stringify(s.data)));
    const n = opts.replace
      ? await this.#db.run(
          'INSERT INTO source_secrets (name, type, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET type = excluded.type, sealed = excluded.sealed, updated_at = excluded.updated_at',
          [s.name, s.type, sealed, now, now],
        )
      : await this.#db.run('INSERT INTO source_secrets (name, type, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING', [s.name, s.type, sealed, now, now]);
    if (n === 0) throw new SecretStoreError('SECRET_EXISTS', `secret ${s.name} exists; give --replace to rotate it`);
    const r = await this.#db.one('SELECT * FROM source_secrets WHERE name = ?', [s.name]);
    if (r) this.#rows.set(s.name, sealedFrom(r));
  }

  get(name: string): SourceSecret | undefined {
    const r = this.#rows.get(name);
    if (!r) return undefined;
    if (!isSecretType(r.type)) throw new SecretStoreError('SECRET_INVALID', `secret ${name} has an unknown type`);
    const data = JSON.parse(openValue(this.#key, r.name, r.type, r.sealed).toString('utf8')) as Record<string, string>;
    return { name: r.name, type: r.type, data };
  }

  list(): SecretSummary[] {
    return [...this.#rows.values()].flatMap((r) => {
      if (!isSecretType(r.type)) return [];
      let fields: string[] = [];
      try {
        fields = Object.keys(JSON.parse(openValue(this.#key, r.name, r.type, r.sealed).toString('utf8')) as object).sort();
      } catch {
        fields = ["(cannot be opened with this server's secrets.key)"];
      }
      return [{ name: r.name, type: r.type, fields, createdAt: r.createdAt, updatedAt: r.updatedAt }];
    });
  }

  async delete(name: string): Promise<boolean> {
    const n = await this.#db.run('DELETE FROM source_secrets WHERE name = ?', [name]);
    this.#rows.delete(name);
    return n > 0;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
