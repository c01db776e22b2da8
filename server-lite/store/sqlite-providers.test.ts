// Identity providers in the store (SQLite and PostgreSQL, issue 17): group bindings count for the
// group's current members in listBindings (the proxy and the RBAC set read it), membership changes
// take effect at once, and removing a provider or a user removes everything that came through it.
import t from 'tap';
import type { ExternalUserRecord, Store } from './store.ts';
import { storeBackends } from '../../test/pg/store-backends.ts';
import { desiredRbac } from '../rbac/desired.ts';

const ext = (login: string, groups: string[]): ExternalUserRecord => ({
  userName: `corp:${login}`, provider: 'corp', login, subject: `uid=${login}`, groups, refreshedAt: 5, sealedRefresh: null,
});

for (const backend of storeBackends(t)) {
  t.test(backend.name, async (t) => {
    const store: Store = await backend.open();
    t.teardown(() => store.close());
    // A cluster to bind on: created through a label-scoped enrolment.
    await store.createToken({ id: 'tok0000002', secretHash: 'ab', createdAt: 0, expiresAt: null, usesMax: 0, uses: 0, clusterId: null, labels: {}, revokedAt: null });
    await store.enrol({
      tokenId: 'tok0000002',
      now: 1,
      newCluster: { id: 'c-1', name: 'one', labels: {}, createdAt: 1, kubernetesVersion: null },
      node: { id: 'n-1', clusterId: 'c-1', name: 'n', createdAt: 1, facts: {}, removedAt: null },
      agent: {
        id: 'a-1', clusterId: 'c-1', nodeId: 'n-1', hostname: 'h', roles: ['cluster'], credentialHash: 'x', prevCredentialHash: null,
        credentialIssuedAt: 1, credentialExpiresAt: 2, createdAt: 1, revokedAt: null, removedAt: null, lastSeen: null, facts: {},
      },
    });
    await store.createProvider({ name: 'corp', kind: 'ldap', config: { kind: 'ldap' }, sealedSecret: 'v1.x', createdAt: 1 });

    t.test('group bindings: members hold the role through the group, and lose it when they leave it', async (t) => {
      await store.saveExternalUser(ext('alice', ['corp:ops']), 5);
      await store.saveExternalUser(ext('bob', ['corp:viewers']), 5);
      t.equal((await store.getUser('corp:alice'))?.globalRole, 'user', 'a users row is made on first login');
      t.ok(await store.bindGroup({ group: 'corp:ops', clusterId: 'c-1', role: 'cluster-member', createdAt: 6 }));
      t.notOk(await store.bindGroup({ group: 'corp:ops', clusterId: 'c-1', role: 'cluster-member', createdAt: 7 }), 'idempotent');
      t.same(await store.listBindings({ clusterId: 'c-1' }), [{ userName: 'corp:alice', clusterId: 'c-1', role: 'cluster-member', createdAt: 6, group: 'corp:ops' }]);
      t.same(await store.listBindings({ userName: 'corp:bob' }), []);
      const subjects = JSON.stringify(desiredRbac(await store.listBindings({ clusterId: 'c-1' })));
      t.match(subjects, /drover:user:corp:alice/, 'the RBAC set names the member');

      await store.saveExternalUser(ext('alice', []), 8);
      t.same(await store.listBindings({ clusterId: 'c-1' }), [], 'left the group: no binding');
      t.notMatch(JSON.stringify(desiredRbac(await store.listBindings({ clusterId: 'c-1' }))), /corp:alice/);
      await store.saveExternalUser(ext('alice', ['corp:ops']), 9);
      t.equal((await store.listBindings({ clusterId: 'c-1' })).length, 1);
      t.ok(await store.unbindGroup('corp:ops', 'c-1', 'cluster-member'));
      t.notOk(await store.unbindGroup('corp:ops', 'c-1', 'cluster-member'));
      t.same(await store.listBindings({ clusterId: 'c-1' }), []);
    });

    t.test('external users: deleting one, or its provider, removes tokens, memberships and bindings', async (t) => {
      await store.bindGroup({ group: 'corp:ops', clusterId: 'c-1', role: 'read-only', createdAt: 10 });
      await store.createUserToken({ id: 't-aaaaaaaaaa', userName: 'corp:alice', secretHash: 'h', description: '', createdAt: 10, expiresAt: null, revokedAt: null });
      t.ok(await store.deleteUser('corp:alice'));
      t.equal(await store.getExternalUser('corp:alice'), undefined);
      t.equal(await store.getUserToken('t-aaaaaaaaaa'), undefined);
      t.same(await store.listBindings({ clusterId: 'c-1' }), []);
      await store.saveExternalUser(ext('alice', ['corp:ops']), 11);
      const { deleted, users } = await store.deleteProvider('corp');
      t.ok(deleted);
      t.same(users.sort(), ['corp:alice', 'corp:bob']);
      t.equal(await store.getUser('corp:bob'), undefined);
      t.same(await store.listBindings({ clusterId: 'c-1' }), []);
      t.equal((await store.listGroupBindings({ clusterId: 'c-1' })).length, 1, 'group bindings stay: they name groups, not users');
    });

    t.test('group bindings: deleting the cluster deletes its group bindings (nothing blocks it)', async (t) => {
      t.ok((await store.listGroupBindings({ clusterId: 'c-1' })).length > 0);
      t.ok(await store.deleteCluster('c-1', { keepWorkloads: true, uninstallAgents: false, at: 20, by: 'admin' }));
      t.same(await store.listGroupBindings({ clusterId: 'c-1' }), []);
    });
  });
}
