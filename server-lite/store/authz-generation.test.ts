// Decision 1150: the authorisation generation moves with every write the proxy's grants depend on
// (bindings, group bindings, group members, projects, project bindings, users), on SQLite and on
// PostgreSQL, and another handle on the same database (another process, another replica) sees it
// move; writes the grants do not depend on leave it alone.
import t from 'tap';
import type { ExternalUserRecord, Store } from './store.ts';
import { storeBackends } from '../../test/pg/store-backends.ts';

const ext = (login: string, groups: string[]): ExternalUserRecord => ({
  userName: `corp:${login}`, provider: 'corp', login, subject: `uid=${login}`, groups, refreshedAt: 5, sealedRefresh: null,
});

for (const backend of storeBackends(t)) {
  t.test(backend.name, async (t) => {
    const store: Store = await backend.open();
    t.teardown(() => store.close());
    const other: Store = await backend.reopen(store);
    t.teardown(() => other.close());
    await store.createToken({ id: 'tok0000003', secretHash: 'ab', createdAt: 0, expiresAt: null, usesMax: 0, uses: 0, clusterId: null, labels: {}, revokedAt: null });
    await store.enrol({
      tokenId: 'tok0000003',
      now: 1,
      newCluster: { id: 'c-1', name: 'one', labels: {}, createdAt: 1, kubernetesVersion: null },
      node: { id: 'n-1', clusterId: 'c-1', name: 'n', createdAt: 1, facts: {}, removedAt: null },
      agent: {
        id: 'a-1', clusterId: 'c-1', nodeId: 'n-1', hostname: 'h', roles: ['cluster'], credentialHash: 'x', prevCredentialHash: null,
        credentialIssuedAt: 1, credentialExpiresAt: 2, createdAt: 1, revokedAt: null, removedAt: null, lastSeen: null, facts: {},
      },
    });
    await store.createProvider({ name: 'corp', kind: 'ldap', config: { kind: 'ldap' }, sealedSecret: 'v1.x', createdAt: 1 });

    /** Runs `write` and checks the generation moved, as read through this handle and the other one. */
    const bumps = async (what: string, write: () => Promise<unknown>): Promise<void> => {
      const before = await store.authzGeneration();
      await write();
      const mine = await store.authzGeneration();
      const theirs = await other.authzGeneration();
      t.ok(mine > before, `${what}: the generation moved (${before} → ${mine})`);
      t.equal(theirs, mine, `${what}: another handle reads the same generation`);
    };

    await bumps('createUser', () => store.createUser({ name: 'alice', globalRole: 'user', passwordHash: null, createdAt: 1 }));
    await bumps('bindRole', () => store.bindRole({ userName: 'alice', clusterId: 'c-1', role: 'read-only', createdAt: 2 }));
    await bumps('unbindRole', () => store.unbindRole('alice', 'c-1', 'read-only'));
    await bumps('bindRole through the other handle', () => other.bindRole({ userName: 'alice', clusterId: 'c-1', role: 'cluster-owner', createdAt: 2 }));
    await bumps('unbindRole through the other handle', () => other.unbindRole('alice', 'c-1', 'cluster-owner'));
    await bumps('saveExternalUser (membership)', () => store.saveExternalUser(ext('bob', ['corp:ops']), 5));
    await bumps('saveExternalUser (membership changed)', () => store.saveExternalUser(ext('bob', []), 6));
    await bumps('bindGroup', () => store.bindGroup({ group: 'corp:ops', clusterId: 'c-1', role: 'cluster-member', createdAt: 6 }));
    await bumps('unbindGroup', () => store.unbindGroup('corp:ops', 'c-1', 'cluster-member'));
    await bumps('createProject', () => store.createProject({ name: 'shop', clusterId: 'c-1', namespaces: ['shop'], createdAt: 7 }));
    await bumps('bindProjectRole', () => store.bindProjectRole({ userName: 'alice', project: 'shop', role: 'read-only', createdAt: 8 }));
    await bumps('setProjectNamespaces', () => store.setProjectNamespaces('shop', ['shop', 'web']));
    await bumps('unbindProjectRole', () => store.unbindProjectRole('alice', 'shop', 'read-only'));
    await bumps('deleteProject', () => store.deleteProject('shop'));
    await bumps('setPassword', () => store.setPassword('alice', 'scrypt$x'));
    await bumps('deleteUser (with bindings)', () => store.deleteUser('alice'));
    await bumps('deleteProvider (its users and memberships)', () => store.deleteProvider('corp'));

    const before = await store.authzGeneration();
    await store.touch([{ agentId: 'a-1', at: 50 }]);
    await store.patchClusterLabels('c-1', { site: 'x' });
    await store.appendAudit([]);
    t.equal(await store.authzGeneration(), before, 'writes the grants do not depend on leave it alone');
  });
}
