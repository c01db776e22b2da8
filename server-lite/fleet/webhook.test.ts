// Webhooks: push events from GitHub, Gitea and GitLab authenticate and name the gitrepos to poll.
import t from 'tap';
import { createHmac } from 'node:crypto';
import { gitreposForPush, normaliseRepoUrl, parseWebhook } from './webhook.ts';

const secret = 's3cret';
const body = (o: unknown) => Buffer.from(JSON.stringify(o));
const sign = (b: Buffer, s = secret) => `sha256=${createHmac('sha256', s).update(b).digest('hex')}`;
const githubPush = body({ ref: 'refs/heads/main', after: 'abc123', repository: { clone_url: 'https://github.com/Acme/Edge.git', ssh_url: 'git@github.com:Acme/Edge.git' } });

t.test('webhook: a signed GitHub push names repository urls, branch and commit', async (t) => {
  const e = parseWebhook({ 'x-github-event': 'push', 'x-hub-signature-256': sign(githubPush) }, githubPush, secret);
  t.same(e, { kind: 'push', provider: 'github', repoUrls: ['https://github.com/Acme/Edge.git', 'git@github.com:Acme/Edge.git'], branch: 'main', commit: 'abc123' });
});

t.test('webhook: a wrong or missing signature is WEBHOOK_UNAUTHORIZED; no secret configured accepts unsigned', async (t) => {
  t.throws(() => parseWebhook({ 'x-github-event': 'push', 'x-hub-signature-256': sign(githubPush, 'other') }, githubPush, secret), { code: 'WEBHOOK_UNAUTHORIZED' });
  t.throws(() => parseWebhook({ 'x-github-event': 'push' }, githubPush, secret), { code: 'WEBHOOK_UNAUTHORIZED' });
  t.equal(parseWebhook({ 'x-github-event': 'push' }, githubPush).kind, 'push');
});

t.test('webhook: Gitea (its own signature header) and GitLab (token) push events', async (t) => {
  const g = body({ ref: 'refs/heads/dev', after: 'def', repository: { clone_url: 'http://gitea.local:3000/ops/fleet.git' } });
  const gitea = parseWebhook({ 'x-gitea-event': 'push', 'x-github-event': 'push', 'x-gitea-signature': sign(g).slice(7) }, g, secret);
  t.same([gitea.provider, gitea.kind === 'push' && gitea.branch], ['gitea', 'dev']);
  const l = body({ ref: 'refs/heads/main', checkout_sha: 'fff', project: { git_http_url: 'https://gitlab.local/ops/fleet.git', git_ssh_url: 'git@gitlab.local:ops/fleet.git' } });
  const gitlab = parseWebhook({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret }, l, secret);
  t.same(gitlab, { kind: 'push', provider: 'gitlab', repoUrls: ['https://gitlab.local/ops/fleet.git', 'git@gitlab.local:ops/fleet.git'], branch: 'main', commit: 'fff' });
  t.throws(() => parseWebhook({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' }, l, secret), { code: 'WEBHOOK_UNAUTHORIZED' });
});

t.test('webhook: other events are ignored; unknown senders and bad bodies are WEBHOOK_INVALID', async (t) => {
  t.same(parseWebhook({ 'x-github-event': 'ping' }, body({ zen: 'x' })), { kind: 'ignored', provider: 'github', event: 'ping' });
  t.throws(() => parseWebhook({}, githubPush), { code: 'WEBHOOK_INVALID' });
  t.throws(() => parseWebhook({ 'x-github-event': 'push' }, Buffer.from('not json')), { code: 'WEBHOOK_INVALID' });
});

t.test('webhook: repository urls match across https, ssh, scp-like forms, case, ports and .git', async (t) => {
  const forms = ['https://github.com/Acme/Edge.git', 'git@github.com:acme/edge.git', 'ssh://git@github.com:22/acme/edge', 'https://user:tok@github.com/acme/edge/', 'git://github.com/acme/edge.git'];
  t.same(new Set(forms.map(normaliseRepoUrl)), new Set(['github.com/acme/edge']));
  t.not(normaliseRepoUrl('https://github.com/acme/edge2'), normaliseRepoUrl('https://github.com/acme/edge'));
});

t.test('webhook: a push polls gitrepos of that repository following that branch (not pinned ones)', async (t) => {
  const e = parseWebhook({ 'x-github-event': 'push' }, githubPush);
  const names = gitreposForPush(e, [
    { name: 'main-ssh', repo: 'git@github.com:acme/edge.git', branch: 'main' },
    { name: 'default', repo: 'https://github.com/acme/edge' },
    { name: 'dev', repo: 'https://github.com/acme/edge', branch: 'dev' },
    { name: 'pinned', repo: 'https://github.com/acme/edge', revision: 'v1' },
    { name: 'other', repo: 'https://github.com/acme/other', branch: 'main' },
  ]);
  t.same(names, ['default', 'main-ssh']);
  t.same(gitreposForPush({ kind: 'ignored', provider: 'github', event: 'ping' }, [{ name: 'x', repo: 'https://github.com/acme/edge' }]), []);
});
