// Reads a kubeconfig into what an HTTPS request needs: the server URL, TLS material and
// credential headers. The common forms (what k3s, RKE2, kubeadm and `kubectl config` write: client
// certificate or token, inline or in files, basic auth, insecure-skip-tls-verify, tls-server-name)
// are read here; only a kubeconfig that needs a credential plugin (`exec`, `auth-provider`) loads
// @kubernetes/client-node for it. A `proxy-url` is refused: neither path would honour it. That library costs an agent about 87 MiB of memory
// and a quarter second at start, on every edge device, for what is mostly a YAML lookup.
import { readFile as readFileCb } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadYaml } from './yaml-loader.ts';

// Not node:fs/promises: that module loads ~250 KiB of Node's own code (readline and watchers
// with it) into every agent that imports this file (issue 25, decision 1223).
const readFile = promisify(readFileCb);

export interface KubeTarget {
  server: URL;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** Credential headers (Authorization) to send with every request. */
  headers: Record<string, string>;
  /** Where it came from: 'kubeconfig' (read here) or 'client-node' (a plugin needed the library). */
  via: 'kubeconfig' | 'client-node';
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export class KubeconfigError extends Error {
  constructor(path: string, message: string) {
    super(`kubeconfig ${path}: ${message}`);
    this.name = 'KubeconfigError';
  }
}

function named(list: unknown, name: string, what: string, path: string): Rec {
  const found = Array.isArray(list) ? list.map(rec).find((e) => e.name === name) : undefined;
  if (!found) throw new KubeconfigError(path, `no ${what} named "${name}"`);
  return rec(found[what]);
}

/** The current context's cluster and user entries. */
function current(doc: Rec, path: string): { context: string; cluster: Rec; user: Rec } {
  const contexts = Array.isArray(doc.contexts) ? doc.contexts.map(rec) : [];
  const name = str(doc['current-context']) ?? (contexts.length === 1 ? str(contexts[0]?.name) : undefined);
  if (!name) throw new KubeconfigError(path, 'no current-context (and not exactly one context)');
  const context = named(doc.contexts, name, 'context', path);
  const clusterName = str(context.cluster);
  if (!clusterName) throw new KubeconfigError(path, `context "${name}" names no cluster`);
  const userName = str(context.user);
  return { context: name, cluster: named(doc.clusters, clusterName, 'cluster', path), user: userName ? named(doc.users, userName, 'user', path) : {} };
}

async function material(inline: unknown, file: unknown, base: string, path: string, what: string): Promise<Buffer | undefined> {
  const data = str(inline);
  if (data) return Buffer.from(data, 'base64');
  const f = str(file);
  if (!f) return undefined;
  try {
    return await readFile(isAbsolute(f) ? f : resolve(base, f));
  } catch (err) {
    throw new KubeconfigError(path, `cannot read ${what} ${f}: ${(err as Error).message}`);
  }
}

/** Needs what only @kubernetes/client-node provides (credential plugins). */
function needsClientNode(user: Rec): boolean {
  return user.exec !== undefined || user['auth-provider'] !== undefined;
}

async function viaClientNode(path: string, context: string): Promise<KubeTarget> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError(path, 'names no current cluster');
  const opts: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; headers?: Record<string, string>; rejectUnauthorized?: boolean; servername?: string; auth?: string } = {};
  await kc.applyToHTTPSOptions(opts as Parameters<InstanceType<typeof KubeConfig>['applyToHTTPSOptions']>[0]);
  const buf = (v: Buffer | string | undefined): Buffer | undefined => (v === undefined ? undefined : Buffer.from(v));
  const tls: KubeTarget['tls'] = {};
  const ca = buf(opts.ca);
  const cert = buf(opts.cert);
  const key = buf(opts.key);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
  if (opts.servername) tls.servername = opts.servername;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  // client-node leaves basic auth in `auth` (user:password) for https.request; we send headers.
  if (opts.auth && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return { server: new URL(cluster.server), tls, headers, via: 'client-node' };
}

export async function loadKubeconfig(path: string): Promise<KubeTarget> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KubeconfigError(path, `cannot read it: ${(err as Error).message}`);
  }
  let doc: Rec;
  try {
    doc = rec(loadYaml().parse(text));
  } catch (err) {
    throw new KubeconfigError(path, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const { context, cluster, user } = current(doc, path);
  if (cluster['proxy-url'] !== undefined) throw new KubeconfigError(path, 'proxy-url is not supported for the connection to the Kubernetes API; reach the apiserver directly');
  if (needsClientNode(user)) return viaClientNode(path, context);
  const server = str(cluster.server);
  if (!server) throw new KubeconfigError(path, 'the current cluster has no server');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(path, `server "${server}" is not a URL`);
  }
  const base = dirname(resolve(path));
  const tls: KubeTarget['tls'] = {};
  const ca = await material(cluster['certificate-authority-data'], cluster['certificate-authority'], base, path, 'certificate-authority');
  const cert = await material(user['client-certificate-data'], user['client-certificate'], base, path, 'client-certificate');
  const key = await material(user['client-key-data'], user['client-key'], base, path, 'client-key');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if ((cert === undefined) !== (key === undefined)) throw new KubeconfigError(path, 'a client certificate needs its key, and a key its certificate');
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  const servername = str(cluster['tls-server-name']);
  if (servername) tls.servername = servername;
  const headers: Record<string, string> = {};
  // As in client-go, a tokenFile wins over an inline token.
  const tokenFile = str(user.tokenFile);
  const token = (tokenFile ? (await material(undefined, tokenFile, base, path, 'tokenFile'))?.toString('utf8').trim() : undefined) ?? str(user.token);
  if (token) headers.authorization = `Bearer ${token}`;
  else if (str(user.username) !== undefined) headers.authorization = `Basic ${Buffer.from(`${str(user.username)}:${str(user.password) ?? ''}`).toString('base64')}`;
  return { server: url, tls, headers, via: 'kubeconfig' };
}
