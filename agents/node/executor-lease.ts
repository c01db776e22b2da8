// Only one process of a device runs plans from its database: two would run every step twice.
// The holder's pid is kept in node_meta; another process takes over only when that pid is gone
// (a killed agent's lease is free as soon as it died, so a restart after kill -9 resumes at once).
// Checked inside an IMMEDIATE transaction, so two processes starting together cannot both win.
import type { Database } from 'better-sqlite3';

const KEY = 'executor.pid';

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createExecutorLease(db: Database, pid = process.pid, alive: (pid: number) => boolean = pidAlive) {
  const get = db.prepare('SELECT value FROM node_meta WHERE key = ?').pluck();
  const set = db.prepare('INSERT INTO node_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  const del = db.prepare('DELETE FROM node_meta WHERE key = ? AND value = ?');
  const take = db.transaction((): boolean => {
    const holder = Number(get.get(KEY) ?? 0);
    if (holder !== 0 && holder !== pid && alive(holder)) return false;
    if (holder !== pid) set.run(KEY, String(pid));
    return true;
  });
  return {
    /** True when this process holds (or just took) the lease. */
    take: (): boolean => take.immediate(),
    holder: (): number => Number(get.get(KEY) ?? 0),
    release: (): void => void del.run(KEY, String(pid)),
  };
}
