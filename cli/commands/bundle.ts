// `drover bundle apply|list|status|events|delete` (ARCHITECTURE.md §3): a directory is packed as tar.gz
// and pushed; the server renders it (helm/kustomize/plain YAML) per targeted cluster and delivers it
// over the fleet tunnels. `status --json` prints {"name","revision","summary","clusters":[…]}.
import https from 'node:https';
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, readAnswer, resolveConnection, tooLarge, withExitCodes, type AdminConnection, type AdminOptions } from '../admin-client.ts';
import { packSource } from '../../server-lite/fleet/source-archive.ts';
import { isFleetError } from '../../server-lite/fleet/errors.ts';
import { table } from './token.ts';

/** The archive upload can carry tens of MiB and the server renders before answering. */
const APPLY_TIMEOUT_MS = 300_000;

interface ApplyResult {
  name: string;
  ok: boolean;
  revision?: string;
  clusters?: string[];
  error?: { code: string; message: string };
  warnings?: string[];
}

interface BundleEvent {
  clusterId: string;
  seq: number;
  revision: string;
  state: string;
  message: string;
  at: string | null;
  receivedAt: number;
}

interface BundleStatus {
  name: string;
  revision: string;
  summary: Record<string, number>;
  clusters: { id: string; name?: string; state: string; message: string; revision?: string }[];
  error?: { code: string; message: string };
  warnings?: string[];
}

async function upload(conn: AdminConnection, path: string, body: Buffer): Promise<{ status: number; body: unknown }> {
  const res = await new Promise<{ status: number; text: string }>((resolvePromise, reject) => {
    const req = https.request(`${conn.url}${path}`, {
      method: 'POST',
      ...(conn.ca === undefined ? {} : { ca: conn.ca }),
      headers: { authorization: `Bearer ${conn.token}`, accept: 'application/json', 'content-type': 'application/gzip', 'content-length': body.length },
      timeout: APPLY_TIMEOUT_MS,
    }, (r) => void readAnswer(req, r).then(resolvePromise, reject));
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  }).catch((err: NodeJS.ErrnoException) => {
    const big = tooLarge(err, 'POST', path);
    if (big) throw big;
    if (err.code?.startsWith('ERR_TLS') || err.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || err.code === 'SELF_SIGNED_CERT_IN_CHAIN') {
      throw new CliError(EXIT.CA_MISMATCH, `${conn.url} presented a certificate the CA does not vouch for (${err.code}); check --ca-file`);
    }
    throw new CliError(EXIT.SERVER_UNREACHABLE, `cannot reach ${conn.url}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '));
  });
  let parsed: unknown = res.text;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    // Keep the text.
  }
  if (res.status === 401 || res.status === 403) {
    const e = (parsed as { error?: { code?: string; message?: string } }).error;
    throw new CliError(EXIT.CREDENTIAL_REJECTED, `server refused the bundle: ${e?.code ?? res.status}: ${e?.message ?? ''}`);
  }
  return { status: res.status, body: parsed };
}

export function registerBundle(program: Command): void {
  const bundle = program
    .command('bundle')
    .description('push directories of Kubernetes manifests, Helm charts or kustomizations to clusters (admin)')
    .addHelpText('after', '\nExample:\n  drover bundle apply ./web --target env=edge && drover bundle status web');

  addAdminOptions(
    bundle
      .command('apply')
      .argument('<dir>', 'directory holding manifests, a Chart.yaml, a kustomization.yaml and/or fleet.yaml files')
      .description('render DIR on the server and deliver it to the targeted clusters')
      .addOption(new Option('--name <name>', 'bundle name (default: the directory name); sub-directories with fleet.yaml become NAME-sub-dir').env('DROVER_BUNDLE_NAME'))
      .addOption(new Option('--namespace <ns>', 'namespace for objects that name none, unless fleet.yaml sets defaultNamespace').env('DROVER_BUNDLE_NAMESPACE'))
      .addOption(new Option('--target <selector...>', 'clusters to target: a label selector (env=edge,tier!=core), cluster=NAME or group=NAME; repeatable (default: all, or fleet.yaml targets)').env('DROVER_BUNDLE_TARGET'))
      .addOption(new Option('--strict', "refuse fleet.yaml keys neither Fleet nor Drover knows (default: a warning, as Fleet ignores them)").env('DROVER_BUNDLE_STRICT'))
      .addOption(new Option('--json', 'print the result as JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExit code 1 when any bundle failed to render; earlier revisions stay deployed.\n\nExample:\n  drover bundle apply ./monitoring --name monitoring --namespace monitoring --target env=edge --target cluster=berlin-1'),
  ).action(
    withExitCodes(async (dir: string, opts: AdminOptions & { name?: string; namespace?: string; target?: string[] | string; strict?: boolean; json?: boolean }) => {
      const conn = resolveConnection(opts);
      const name = opts.name ?? basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
      let archive: Buffer;
      try {
        archive = await packSource(resolve(dir));
      } catch (err) {
        if (isFleetError(err)) throw new CliError(EXIT.FAILURE, `${err.code}: ${err.message}`);
        throw new CliError(EXIT.USAGE, `cannot read ${dir}: ${(err as Error).message}`);
      }
      const q = new URLSearchParams({ name });
      if (opts.namespace) q.set('namespace', opts.namespace);
      if (opts.strict) q.set('strict', 'true');
      const targets = typeof opts.target === 'string' ? [opts.target] : (opts.target ?? []);
      for (const t of targets) q.append('target', t);
      const res = await upload(conn, `/v1/fleet/bundles?${q.toString()}`, archive);
      const results = (res.body as { bundles?: ApplyResult[] }).bundles;
      if (!results) {
        const e = (res.body as { error?: { code?: string; message?: string } }).error;
        throw new CliError(EXIT.FAILURE, `server refused the bundle: ${e?.code ?? `HTTP ${res.status}`}: ${e?.message ?? ''}`);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
      else {
        for (const r of results) {
          if (r.ok) process.stdout.write(`bundle ${r.name}: revision ${(r.revision ?? '').slice(0, 12)} for ${r.clusters?.length ?? 0} cluster(s)\n`);
          else process.stderr.write(`drover: bundle ${r.name}: ${r.error?.code}: ${r.error?.message}\n`);
          for (const w of r.warnings ?? []) process.stderr.write(`drover: warning: ${w}\n`);
        }
      }
      if (results.some((r) => !r.ok)) process.exitCode = EXIT.FAILURE;
    }),
  );

  addAdminOptions(
    bundle
      .command('list')
      .description('list bundles with their revision and worst state')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover bundle list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = ((await adminRequest(resolveConnection(opts), 'GET', '/v1/fleet/bundles')).body as { bundles: { name: string; revision: string; state: string; clusters: number; ready: number; error?: { code: string }; warnings?: number }[] }).bundles;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['NAME', 'REVISION', 'STATE', 'READY', 'ERROR']];
      for (const b of rows) lines.push([b.name, b.revision.slice(0, 12) || '-', b.state, `${b.ready}/${b.clusters}`, b.error?.code ?? (b.warnings ? `${b.warnings} warning(s)` : '-')]);
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    bundle
      .command('status')
      .argument('<name>', 'bundle name')
      .description('per-cluster state of a bundle (Offline when the cluster\'s fleet agent is not connected)')
      .addOption(new Option('--json', 'print JSON: {"name","revision","summary","clusters":[{"id","state","message"}]}').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover bundle status web --json | jq \'.clusters[] | select(.state != "Ready")\''),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { json?: boolean }) => {
      const s = (await adminRequest(resolveConnection(opts), 'GET', `/v1/fleet/bundles/${encodeURIComponent(name)}`)).body as BundleStatus;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      const counts = Object.entries(s.summary).filter(([k, v]) => v > 0 && k !== 'desiredReady').map(([k, v]) => `${k} ${v}`).join(', ');
      // Targets may render differently (per-cluster values): the bundle's revision names the set of
      // them, each cluster's CONTENT the manifests it runs; say so, so the two are not confused.
      const distinct = new Set(s.clusters.map((c) => c.revision).filter(Boolean)).size;
      const note = distinct > 0 ? ` (over ${distinct} distinct cluster content revision${distinct === 1 ? '' : 's'}, below)` : '';
      process.stdout.write(`bundle:   ${s.name}\nrevision: ${s.revision.slice(0, 12) || '-'}${note}\nsummary:  ${counts || 'no clusters'}\n`);
      if (s.error) process.stdout.write(`error:    ${s.error.code}: ${s.error.message}\n`);
      for (const w of s.warnings ?? []) process.stdout.write(`warning:  ${w}\n`);
      const lines = [['CLUSTER', 'NAME', 'STATE', 'CONTENT', 'MESSAGE']];
      for (const c of s.clusters) lines.push([c.id, c.name ?? '-', c.state, c.revision?.slice(0, 12) || '-', c.message || '-']);
      process.stdout.write(`\n${table(lines)}`);
    }),
  );

  addAdminOptions(
    bundle
      .command('events')
      .argument('<name>', 'bundle name')
      .description('what the fleet agents reported, oldest first, in each agent\'s own order and time (also what happened while a site was offline)')
      .addOption(new Option('--cluster <id-or-name>', 'only this cluster').env('DROVER_BUNDLE_EVENTS_CLUSTER'))
      .addOption(new Option('--limit <n>', 'the newest N events').env('DROVER_BUNDLE_EVENTS_LIMIT').default('50'))
      .addOption(new Option('--json', 'print JSON: [{"clusterId","seq","revision","state","message","at","receivedAt"}]').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover bundle events web --cluster edge-1'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { cluster?: string; limit: string; json?: boolean }) => {
      if (!/^\d+$/.test(opts.limit) || Number(opts.limit) < 1) throw new CliError(EXIT.USAGE, `--limit must be a positive whole number, got ${opts.limit}`);
      const q = new URLSearchParams({ limit: opts.limit, ...(opts.cluster ? { cluster: opts.cluster } : {}) });
      const events = ((await adminRequest(resolveConnection(opts), 'GET', `/v1/fleet/bundles/${encodeURIComponent(name)}/events?${q}`)).body as { events: BundleEvent[] }).events;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(events)}\n`);
        return;
      }
      if (events.length === 0) {
        process.stdout.write(`no events for bundle ${name}${opts.cluster ? ` on ${opts.cluster}` : ''}\n`);
        return;
      }
      const lines = [['AT (AGENT)', 'RECEIVED', 'CLUSTER', 'SEQ', 'STATE', 'REVISION', 'MESSAGE']];
      for (const e of events) {
        const received = new Date(e.receivedAt).toISOString();
        lines.push([e.at ?? '-', received === e.at ? '' : received, e.clusterId, String(e.seq), e.state, e.revision.slice(0, 12), e.message || '-']);
      }
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    bundle
      .command('history')
      .argument('<name>', 'bundle name')
      .description('what a bundle was over time: each new revision (source, clusters, warnings) and each source that failed to render, oldest first')
      .addOption(new Option('--json', 'print JSON: [{"revision","source","clusters","error","warnings","at"}]').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover bundle history web'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { json?: boolean }) => {
      const rows = ((await adminRequest(resolveConnection(opts), 'GET', `/v1/fleet/bundles/${encodeURIComponent(name)}/history`)).body as {
        history: { revision: string | null; source: string; clusters: number; error: { code: string; message: string } | null; warnings: number; at: number }[];
      }).history;
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      const lines = [['AT', 'REVISION', 'SOURCE', 'CLUSTERS', 'RESULT']];
      for (const r of rows) {
        const result = r.error ? `${r.error.code}: ${r.error.message.split('\n')[0] ?? ''}` : r.warnings > 0 ? `stored, ${r.warnings} warning(s)` : 'stored';
        lines.push([new Date(r.at).toISOString(), r.revision?.slice(0, 12) ?? '-', r.source, r.error ? '-' : String(r.clusters), result]);
      }
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    bundle
      .command('delete')
      .argument('<name>', 'bundle name')
      .description('stop delivering a bundle; agents prune its objects (unless keepResources)')
      .addHelpText('after', '\nExample:\n  drover bundle delete web'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/fleet/bundles/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted bundle ${name}\n`);
    }),
  );
}
