import t from 'tap';
import { checkImpersonation, readImpersonation } from './impersonation.ts';
import { ServerError } from '../errors.ts';

const req = (h: Record<string, string[]>) => ({ headersDistinct: h });

t.test('impersonation: what a request asks for', async (t) => {
  t.equal(readImpersonation(req({ accept: ['*/*'] })), undefined, 'nothing asked');
  t.same(readImpersonation(req({ 'impersonate-user': ['ro'], 'impersonate-group': ['drover:cluster:read-only', 'drover:authenticated'] })), {
    user: 'ro',
    groups: ['drover:cluster:read-only', 'drover:authenticated'],
    unsupported: [],
  });
  t.same(readImpersonation(req({ 'impersonate-uid': ['1'], 'impersonate-extra-scopes': ['x'] }))?.unsupported, ['impersonate-uid', 'impersonate-extra-scopes']);
});

t.test('impersonation: only admins, only Drover users and groups, never silently', async (t) => {
  const refused = (fn: () => unknown, re: RegExp, what: string) => {
    try {
      fn();
      t.fail(`${what}: accepted`);
    } catch (err) {
      t.ok(err instanceof ServerError && err.code === 'IMPERSONATION_FORBIDDEN' && err.status === 403, what);
      t.match((err as Error).message, re, what);
    }
  };
  const h = (user: string | undefined, groups: string[] = [], unsupported: string[] = []) => ({ user, groups, unsupported });
  t.same(checkImpersonation('admin', 'admin', h('ro')), { user: 'ro', groups: undefined });
  t.same(checkImpersonation('admin', 'admin', h('drover:user:ro')), { user: 'ro', groups: undefined }, 'the Kubernetes form of the name');
  t.same(checkImpersonation('admin', 'admin', h('ro', ['drover:cluster:read-only'])), { user: 'ro', groups: ['drover:authenticated', 'drover:cluster:read-only'] });
  refused(() => checkImpersonation('alice', 'user', h('admin')), /alice may not impersonate.*only global admins/, 'a user');
  refused(() => checkImpersonation('admin', 'admin', h('system:admin')), /only Drover users/, 'a Kubernetes user');
  refused(() => checkImpersonation('admin', 'admin', h('ro', ['system:masters'])), /only Drover groups/, 'a Kubernetes group');
  refused(() => checkImpersonation('admin', 'admin', h(undefined, ['drover:cluster:read-only'])), /needs --as/, 'groups without a user');
  refused(() => checkImpersonation('admin', 'admin', h('ro', [], ['impersonate-uid'])), /--as and --as-group only/, 'uid');
});
