// `drover cluster list|get|label|delete`: the cluster registry (ARCHITECTURE.md §3). `list --json` prints
// the contract shape [{"id","name","labels","state","lastSeen","kubernetesVersion"}] (plus fields).
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';
import { renderClusterDetail, type ClusterDetail, type ClusterFleet, type ClusterRow, type FleetClusterRow } from './cluster-view.ts';


/** `k=v` sets, `k-` removes (as kubectl label). */
export function parseLabelEdits(args: readonly string[]): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const arg of args) {
    if (arg.endsWith('-') && !arg.includes('=')) {
      patch[arg.slice(0, -1)] = null;
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new CliError(EXIT.USAGE, `labels are k=v (set) or k- (remove), got ${arg}`);
    patch[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return patch;
}

export function registerCluster(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('list, label and delete registered clusters (admin)')
    .addHelpText('after', '\nExample:\n  drover cluster list --data-dir /var/lib/drover/server');

  addAdminOptions(
    cluster
      .command('list')
      .description('list clusters with their state (Connected, Stale, Offline) and last contact')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover cluster list --data-dir /var/lib/drover/server --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const conn = resolveConnection(opts);
      const rows = (await adminRequest(conn, 'GET', '/v1/clusters')).body as ClusterRow[];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const fleet = new Map(((await adminRequest(conn, 'GET', '/v1/fleet/clusters')).body as { clusters: FleetClusterRow[] }).clusters.map((f) => [f.id, f]));
      const lines = [['ID', 'NAME', 'STATE', 'LAST SEEN', 'KUBERNETES', 'BUNDLES', 'LABELS']];
      for (const c of rows) {
        const labels = Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(',');
        const f = fleet.get(c.id);
        lines.push([c.id, c.name, c.state, c.lastSeen ?? 'never', c.kubernetesVersion ?? '-', f ? `${f.ready}/${f.bundles} ready` : '-', labels || '-']);
      }
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    cluster
      .command('get')
      .description('show one cluster: state, labels, Kubernetes nodes and Warning events, Drover nodes (--json: everything, incl. tunnel sessions)')
      .argument('<id>', 'cluster id (see `drover cluster list`)')
      .addOption(new Option('--json', 'print the full JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover cluster get c-abc123 --data-dir /var/lib/drover/server'),
  ).action(
    withExitCodes(async (id: string, opts: AdminOptions & { json?: boolean }) => {
      const conn = resolveConnection(opts);
      const res = await adminRequest(conn, 'GET', `/v1/clusters/${encodeURIComponent(id)}`);
      // Its bundles, as `drover bundle status` shows them (an added field of the JSON: `fleet`).
      const fleet = (await adminRequest(conn, 'GET', `/v1/fleet/clusters/${encodeURIComponent(id)}`)).body as ClusterFleet;
      const detail = { ...(res.body as ClusterDetail), fleet };
      process.stdout.write(opts.json ? `${JSON.stringify(detail, null, 2)}\n` : renderClusterDetail(detail));
    }),
  );

  addAdminOptions(
    cluster
      .command('label')
      .description('set (k=v) or remove (k-) labels of a cluster')
      .argument('<id>', 'cluster id')
      .argument('<labels...>', 'k=v to set, k- to remove')
      .addHelpText('after', '\nExample:\n  drover cluster label c-abc123 env=prod tier- --data-dir /var/lib/drover/server'),
  ).action(
    withExitCodes(async (id: string, labels: string[], opts: AdminOptions) => {
      const res = await adminRequest(resolveConnection(opts), 'PATCH', `/v1/clusters/${encodeURIComponent(id)}`, {
        labels: parseLabelEdits(labels),
      });
      const c = res.body as ClusterRow;
      process.stdout.write(`${Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(',')}\n`);
    }),
  );

  addAdminOptions(
    cluster
      .command('delete')
      .description("delete a cluster: its agents remove Drover's RBAC and bundle objects from it (now, or when an offline one next connects), its credentials stop working, its rows go")
      .argument('<id>', 'cluster id (see `drover cluster list`)')
      .addOption(new Option('--keep-workloads', 'leave the objects of its bundles running on the cluster (only Drover itself is removed)').env('DROVER_KEEP_WORKLOADS'))
      .addOption(new Option('--uninstall-agents', 'the agents also uninstall themselves (drover-uninstall.sh --remove-state) after cleaning up').env('DROVER_UNINSTALL_AGENTS'))
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover cluster delete c-abc123 --keep-workloads --data-dir /var/lib/drover/server\n\nThe cluster can join again later with a new join token (drover token create).'),
  ).action(
    withExitCodes(async (id: string, opts: AdminOptions & { json?: boolean; keepWorkloads?: boolean; uninstallAgents?: boolean }) => {
      const res = await adminRequest(resolveConnection(opts), 'DELETE', `/v1/clusters/${encodeURIComponent(id)}`, {
        keepWorkloads: opts.keepWorkloads === true,
        uninstallAgents: opts.uninstallAgents === true,
      });
      const out = res.body as { id: string; keepWorkloads: boolean; uninstallAgents: boolean; agents: { id: string; roles: string[]; connected: boolean }[] };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(out)}\n`);
        return;
      }
      const now = out.agents.filter((a) => a.connected).length;
      const later = out.agents.length - now;
      const what = `${out.keepWorkloads ? 'keeping its workloads' : 'removing its bundle objects'}${out.uninstallAgents ? ', then uninstalling themselves' : ''}`;
      process.stdout.write(
        `cluster ${out.id} deleted; its credentials are refused from now on.\n` +
          `${now} connected agent(s) are cleaning up now, ${later} offline agent(s) will when they next connect (${what}).\n`,
      );
    }),
  );
}
