import t from 'tap';
import { shellDecision } from './shell-access.ts';

const node = { id: 'n-1', clusterId: 'c-1' };

t.test('shell access: global admins and cluster owners only', async (t) => {
  t.same(shellDecision({ user: 'admin', globalRole: 'admin' }, node, []), { allowed: true });
  t.same(shellDecision({ user: 'olga', globalRole: 'user' }, node, ['cluster-owner']), { allowed: true });
  t.same(shellDecision({ user: 'olga', globalRole: 'user' }, node, ['read-only', 'cluster-owner']), { allowed: true });
  const rita = shellDecision({ user: 'rita', globalRole: 'user' }, node, ['read-only']);
  t.match(rita, { allowed: false, status: 403, message: 'user rita has the role read-only on cluster c-1; drover shell needs cluster-owner on that cluster or the global admin role' });
  t.match(shellDecision({ user: 'mark', globalRole: 'user' }, node, ['cluster-member', 'read-only']), { allowed: false, status: 403, message: /cluster-member, read-only/ });
  t.match(shellDecision({ user: 'eve', globalRole: 'user' }, node, []), { allowed: false, status: 404 }, 'no role: the node is not visible');
});
