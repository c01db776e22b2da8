import t from 'tap';
import { unregisterAgent } from './unregister.ts';
import { AgentStore } from './store.ts';
import { silentLogger } from './logger.ts';
import { sampleIdentity } from './test-fixtures.ts';

t.test('unregister: with the server unreachable the local identity is still removed, and the caller is told', async (t) => {
  const dir = t.testdir();
  const store = AgentStore.open(dir, { create: true });
  store.saveIdentity(sampleIdentity({ serverUrl: 'https://127.0.0.1:1' }));
  store.close();
  const res = await unregisterAgent(dir, { env: {}, logger: silentLogger() });
  t.match(res, { agentId: 'a1', serverNotified: false, serverError: /SERVER_UNREACHABLE/ });
  const after = AgentStore.open(dir, { create: false });
  t.teardown(() => after.close());
  t.equal(after.getIdentity(), undefined, 'identity gone');
});

t.test('unregister: without an identity it is NOT_REGISTERED', async (t) => {
  await t.rejects(unregisterAgent(t.testdir(), { env: {}, logger: silentLogger() }), { code: 'NOT_REGISTERED' });
});
