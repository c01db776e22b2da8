// The HA tables (issue 17) on SQLite and on Debian's PostgreSQL: one contract for both
// (replica-store-contract.ts), so newest-wins and leases mean the same on either datastore.
import t from 'tap';
import { storeBackends } from '../../test/pg/store-backends.ts';
import { replicaStoreContract } from './replica-store-contract.ts';
import type { Store } from './store.ts';

const open: Store[] = [];
t.teardown(async () => {
  for (const s of open) await s.close();
});
for (const backend of storeBackends(t)) {
  t.test(backend.name, async (t) => {
    replicaStoreContract(t, async () => {
      const s = await backend.open();
      open.push(s);
      if (!s.replicas) throw new Error(`${backend.name} has no HA tables`);
      return s.replicas;
    });
  });
}
