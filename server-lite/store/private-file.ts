// SQLite files of the server hold credential hashes, audit rows and agents' statuses: readable by
// the server's user only. The database file is created 0600 before SQLite opens it (SQLite then
// creates its -wal and -shm files with the database's mode), and files left by an older version
// with a wider mode are narrowed (issue 14: fleet.db* were 0644).
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;

/** Call before `new Database(path)`; a no-op for `:memory:`. */
export function preparePrivateDatabase(path: string): void {
  if (path === ':memory:') return;
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
  }
}
