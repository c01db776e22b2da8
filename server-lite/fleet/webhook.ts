// Git webhooks: turn a push notification (GitHub, Gitea, GitLab) into the gitrepos to poll now.
// The webhook only says "look now"; what gets deployed still comes from our own fetch, so a forged
// payload can at worst cause an extra poll. Secrets are still checked (HMAC or token, timing-safe)
// so the endpoint cannot be used to make the server hammer a git host.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';

export type WebhookProvider = 'github' | 'gitea' | 'gitlab';

export type WebhookEvent =
  | { kind: 'push'; provider: WebhookProvider; repoUrls: string[]; branch?: string | undefined; commit?: string | undefined }
  | { kind: 'ignored'; provider: WebhookProvider; event: string };

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(h: Headers, name: string): string | undefined {
  const v = h[name] ?? h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkHmac(body: Uint8Array, secret: string, given: string | undefined, provider: WebhookProvider): void {
  const expected = createHmac('sha256', secret).update(body).digest('hex');
  const hex = given?.replace(/^sha256=/, '') ?? '';
  if (!sameSecret(hex, expected)) throw new FleetError('WEBHOOK_UNAUTHORIZED', `${provider} webhook signature does not match the configured secret`);
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const strings = (...vs: unknown[]): string[] => vs.filter((v): v is string => typeof v === 'string' && v !== '');

/** Parses and authenticates one webhook request. `secret` undefined means none is configured. */
export function parseWebhook(headers: Headers, body: Uint8Array, secret?: string): WebhookEvent {
  if (body.byteLength > FLEET_LIMITS.maxWebhookBytes) throw new FleetError('WEBHOOK_INVALID', `webhook body is larger than ${FLEET_LIMITS.maxWebhookBytes} bytes`);
  const gitea = header(headers, 'x-gitea-event');
  const github = header(headers, 'x-github-event');
  const gitlab = header(headers, 'x-gitlab-event');
  // Gitea also sends X-GitHub-Event for compatibility, so it is checked first.
  const provider: WebhookProvider | undefined = gitea ? 'gitea' : github ? 'github' : gitlab ? 'gitlab' : undefined;
  if (!provider) throw new FleetError('WEBHOOK_INVALID', 'not a GitHub, Gitea or GitLab webhook (no X-GitHub-Event, X-Gitea-Event or X-Gitlab-Event header)');
  if (secret !== undefined) {
    if (provider === 'gitlab') {
      if (!sameSecret(header(headers, 'x-gitlab-token') ?? '', secret)) throw new FleetError('WEBHOOK_UNAUTHORIZED', 'gitlab webhook token does not match the configured secret');
    } else {
      checkHmac(body, secret, provider === 'gitea' ? (header(headers, 'x-gitea-signature') ?? header(headers, 'x-hub-signature-256')) : header(headers, 'x-hub-signature-256'), provider);
    }
  }
  const event = (gitea ?? github ?? gitlab ?? '').toLowerCase();
  if (event !== 'push' && event !== 'push hook') return { kind: 'ignored', provider, event };
  let payload: Record<string, unknown>;
  try {
    payload = asRecord(JSON.parse(Buffer.from(body).toString('utf8')));
  } catch {
    throw new FleetError('WEBHOOK_INVALID', `${provider} push webhook body is not JSON`);
  }
  const ref = typeof payload.ref === 'string' ? payload.ref : undefined;
  const branch = ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
  if (provider === 'gitlab') {
    const p = asRecord(payload.project);
    const repoUrls = strings(p.git_http_url, p.git_ssh_url, p.web_url, p.http_url, p.ssh_url);
    return { kind: 'push', provider, repoUrls, branch, commit: strings(payload.checkout_sha, payload.after)[0] };
  }
  const r = asRecord(payload.repository);
  const repoUrls = strings(r.clone_url, r.ssh_url, r.html_url, r.git_url, r.url);
  return { kind: 'push', provider, repoUrls, branch, commit: strings(payload.after)[0] };
}

/** `git@Host:Org/Repo.git`, `https://u:p@host:443/org/repo/` … → `host/org/repo` (for matching only). */
export function normaliseRepoUrl(url: string): string {
  let u = url.trim().toLowerCase();
  const scp = /^([^@/:]+@)?([^/:]+):(?!\/\/)(.+)$/.exec(u);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//.test(u)) u = `${scp[2]}/${scp[3]}`;
  u = u.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^[^/@]*@/, '');
  u = u.replace(/^([^/]+):\d+\//, '$1/');
  return u.replace(/\/+$/, '').replace(/\.git$/, '');
}

export interface WebhookTarget {
  name: string;
  repo: string;
  branch?: string | undefined;
  revision?: string | undefined;
}

/** Gitrepos to poll for a push: same repository, following the pushed branch (or any, if unknown). */
export function gitreposForPush(event: WebhookEvent, gitrepos: readonly WebhookTarget[]): string[] {
  if (event.kind !== 'push') return [];
  const urls = new Set(event.repoUrls.map(normaliseRepoUrl));
  return gitrepos
    .filter((g) => urls.has(normaliseRepoUrl(g.repo)))
    // A pinned revision never moves with a push; a gitrepo without a branch follows the default one.
    .filter((g) => g.revision === undefined && (event.branch === undefined || g.branch === undefined || g.branch === event.branch))
    .map((g) => g.name)
    .sort();
}
