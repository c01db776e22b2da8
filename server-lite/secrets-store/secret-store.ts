// Source secrets on the server: one SQLite file `secrets.db` in the data dir, each row's values
// sealed (seal.ts) under `secrets.key` (32 random bytes, 0600, created on first start). Anyone who
// copies the database alone learns names and types, never values. Reads go to the file every time,
// so a secret replaced with `drover secret create --replace` is used by the next git fetch or helm
// pull, with no restart (decision 0941).
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { preparePrivateDatabase } from '../store/private-file.ts';
import { KEY_BYTES, openValue, sealValue } from './seal.ts';
import { isSecretType, secretProblem, type SecretSummary, type SourceSecret } from './source-secret.ts';

export class SecretStoreError extends Error {
  readonly code: 'SECRET_NOT_FOUND' | 'SECRET_INVALID' | 'SECRET_EXISTS';
  constructor(code: SecretStoreError['code'], message: string) {
    super(message);
    this.name = 'SecretStoreError';
    this.code = code;
  }
}

/** The server's one secrets key (source secrets and identity-provider secrets). */
export const SECRETS_KEY_FILE = 'secrets.key';

/** Reads the key, or creates it atomically (0600) when there is none. */
export function ensureSecretsKey(path: string, random: (n: number) => Buffer = randomBytes): Buffer {
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, random(KEY_BYTES).toString('base64') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${path} is not a Drover secrets key (expected ${KEY_BYTES} bytes, base64)`);
  return key;
}

/** What the API and the fleet use: secrets.db (SecretStore) or PostgreSQL (PgSecretStore, issue 17). */
export interface SourceSecretStore {
  put(s: SourceSecret, now: number, opts?: { replace?: boolean }): void | Promise<void>;
  get(name: string): SourceSecret | undefined;
  list(): SecretSummary[];
  delete(name: string): boolean | Promise<boolean>;
  close(): void;
}

type Row = { name: string; type: string; sealed: Buffer; created_at: number; updated_at: number };

export class SecretStore implements SourceSecretStore {
  readonly #db: Database.Database;
  readonly #key: Buffer;

  constructor(dataDir: string) {
    this.#key = ensureSecretsKey(join(dataDir, SECRETS_KEY_FILE));
    const path = join(dataDir, 'secrets.db');
    preparePrivateDatabase(path);
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    // A secret a user was told is stored must survive a crash: the write is durable before the answer.
    this.#db.pragma('synchronous = FULL');
    this.#db.exec('CREATE TABLE IF NOT EXISTS source_secrets (name TEXT PRIMARY KEY, type TEXT NOT NULL, sealed BLOB NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)');
  }

  /** Stores a secret; an existing one of that name is replaced only with `replace`. */
  put(s: SourceSecret, now: number, opts: { replace?: boolean } = {}): void {
    const problem = secretProblem(s);
    if (problem) throw new SecretStoreError('SECRET_INVALID', problem);
    const sealed = sealValue(this.#key, s.name, s.type, Buffer.from(JSON.stringify(s.data)));
    const exists = this.#db.prepare('SELECT 1 FROM source_secrets WHERE name = ?').get(s.name) !== undefined;
    if (exists && !opts.replace) throw new SecretStoreError('SECRET_EXISTS', `secret ${s.name} exists; give --replace to rotate it`);
    this.#db
      .prepare('INSERT INTO source_secrets (name, type, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET type = excluded.type, sealed = excluded.sealed, updated_at = excluded.updated_at')
      .run(s.name, s.type, sealed, now, now);
  }

  /** The secret with its values, or undefined. */
  get(name: string): SourceSecret | undefined {
    const r = this.#db.prepare('SELECT * FROM source_secrets WHERE name = ?').get(name) as Row | undefined;
    if (!r) return undefined;
    if (!isSecretType(r.type)) throw new SecretStoreError('SECRET_INVALID', `secret ${name} has an unknown type`);
    const data = JSON.parse(openValue(this.#key, r.name, r.type, r.sealed).toString('utf8')) as Record<string, string>;
    return { name: r.name, type: r.type, data };
  }

  list(): SecretSummary[] {
    const rows = this.#db.prepare('SELECT * FROM source_secrets ORDER BY name').all() as Row[];
    return rows.flatMap((r) => {
      if (!isSecretType(r.type)) return [];
      let fields: string[] = [];
      try {
        fields = Object.keys(JSON.parse(openValue(this.#key, r.name, r.type, r.sealed).toString('utf8')) as object).sort();
      } catch {
        fields = ['(cannot be opened with this server\'s secrets.key)'];
      }
      return [{ name: r.name, type: r.type, fields, createdAt: r.created_at, updatedAt: r.updated_at }];
    });
  }

  delete(name: string): boolean {
    return this.#db.prepare('DELETE FROM source_secrets WHERE name = ?').run(name).changes > 0;
  }

  close(): void {
    this.#db.close();
  }
}
