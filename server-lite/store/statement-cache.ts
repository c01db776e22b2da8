// The server store prepares each SQL text once: better-sqlite3's `prepare` compiles the statement
// every call, and the store's methods run on hot paths (every RBAC push reads bindings and
// projects, every tunnel connect reads its agent; in a reconnect storm of 10,000 agents `prepare`
// was the largest named cost in the server's CPU profile). The store's SQL texts are fixed strings,
// so the cache is bounded by the code; statements are reused only synchronously (no iterate()).
import type Database from 'better-sqlite3';

export function cacheStatements(db: Database.Database): Database.Database {
  const cache = new Map<string, Database.Statement>();
  const prepare = db.prepare.bind(db);
  const cached = (source: string): Database.Statement => {
    let s = cache.get(source);
    if (s === undefined) {
      s = prepare(source);
      cache.set(source, s);
    }
    return s;
  };
  db.prepare = cached as Database.Database['prepare'];
  return db;
}
