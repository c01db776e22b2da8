// The HA tables on SQLite: the ReplicaStore contract (replica-store-contract.ts) on a real file.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.ts';
import { replicaStoreContract } from './replica-store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-replicas-'));
const stores: SqliteStore[] = [];
t.teardown(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
replicaStoreContract(t, async () => {
  const s = new SqliteStore(join(dir, `s${n++}.db`));
  stores.push(s);
  return s.replicas;
});
