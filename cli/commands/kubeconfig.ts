// `drover kubeconfig CLUSTER [--user NAME]`: prints only a kubeconfig for the proxy
// (`SERVER/k8s/clusters/CLUSTER`) with the server's CA embedded. Without --user it carries the
// caller's own token; an admin naming another user gets a freshly minted token of that user.
import { Option, type Command } from 'commander';
import { addAdminOptions, adminRequest, resolveConnection, withExitCodes, type AdminConnection, type AdminOptions } from '../admin-client.ts';
import { parseDuration } from './token.ts';
import https from 'node:https';

/** The server's CA PEM: the pinned one, or GET /v1/ca over the already verified connection. */
async function serverCa(conn: AdminConnection): Promise<string> {
  if (conn.ca !== undefined) return conn.ca;
  return new Promise((resolve, reject) => {
    https
      .get(`${conn.url}/v1/ca`, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

/** A cluster's local endpoint (issue 18): a second cluster and context, `<local.name>`, same user. */
export interface LocalContext {
  name: string;
  server: string;
  caPem: string;
}

export function kubeconfigYaml(o: { server: string; caPem: string; token: string; name: string; user: string; local?: LocalContext | undefined }): string {
  const cluster = (name: string, server: string, caPem: string) => ({ name, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } });
  // JSON is YAML: no YAML emitter needed, and no quoting mistakes.
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [cluster(o.name, o.server, o.caPem), ...(o.local ? [cluster(o.local.name, o.local.server, o.local.caPem)] : [])],
    users: [{ name: o.user, user: { token: o.token } }],
    contexts: [
      { name: o.name, context: { cluster: o.name, user: o.user } },
      ...(o.local ? [{ name: o.local.name, context: { cluster: o.local.name, user: o.user } }] : []),
    ],
    'current-context': o.name,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The `CLUSTER-local` context when the cluster's local endpoint is enabled (else none). */
async function localContext(conn: AdminConnection, cluster: string): Promise<LocalContext | undefined> {
  const view = (await adminRequest(conn, 'GET', `/v1/clusters/${encodeURIComponent(cluster)}/endpoint`).catch(() => undefined))?.body as
    | { enabled?: boolean; url?: string | null; caPem?: string | null }
    | undefined;
  if (!view?.enabled || !view.url || !view.caPem) return undefined;
  return { name: `${cluster}-local`, server: view.url, caPem: view.caPem };
}

export function registerKubeconfig(program: Command): void {
  addAdminOptions(
    program
      .command('kubeconfig')
      .description('print a kubeconfig that reaches CLUSTER through the server, as you (or, for an admin, as --user); with the cluster\'s local endpoint enabled, also a CLUSTER-local context')
      .argument('<cluster>', 'cluster id (see drover cluster list)')
      .addOption(new Option('--user <name>', 'admin only: mint a token for this user').env('DROVER_USER'))
      .addOption(new Option('--ttl <duration>', 'lifetime of a minted token (default 30d)').env('DROVER_TTL'))
      .addHelpText('after', '\nExample:\n  drover kubeconfig c-abc123 --user alice > alice.kubeconfig && kubectl --kubeconfig alice.kubeconfig get nodes'),
  ).action(
    withExitCodes(async (cluster: string, opts: AdminOptions & { user?: string; ttl?: string }) => {
      const conn = resolveConnection(opts);
      let token = conn.token;
      let user = 'drover';
      if (opts.user !== undefined) {
        const body: Record<string, unknown> = { description: `kubeconfig ${cluster}` };
        if (opts.ttl !== undefined) body.ttlSeconds = parseDuration(opts.ttl);
        token = ((await adminRequest(conn, 'POST', `/v1/users/${encodeURIComponent(opts.user)}/tokens`, body)).body as { token: string }).token;
        user = opts.user;
      } else {
        user = ((await adminRequest(conn, 'GET', '/v1/whoami')).body as { user: string }).user;
      }
      const caPem = await serverCa(conn);
      const server = `${conn.url}/k8s/clusters/${encodeURIComponent(cluster)}`;
      const local = await localContext(conn, cluster);
      process.stdout.write(kubeconfigYaml({ server, caPem, token, name: `drover-${cluster}`, user: `${user}@drover`, local }));
    }),
  );
}
