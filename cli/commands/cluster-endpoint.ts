// `drover cluster endpoint ID --enable [--listen ADDR] [--fqdn NAME]` / `--disable` / (neither:
// show): a cluster's local endpoint (issue 18, docs/access.md). Prints the endpoint's URL and how
// its sync stands; `drover kubeconfig ID` then adds the `ID-local` context.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { checkListen } from '../../server-lite/access/endpoint-api.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';

interface EndpointView {
  clusterId: string;
  enabled: boolean;
  listen: string | null;
  fqdn: string | null;
  url: string | null;
  caPem: string | null;
  sync: { revision: string | null; listening: string | null; error: string | null; syncedAt: number | null } | null;
}

function render(v: EndpointView): string {
  if (!v.enabled) return `local endpoint of ${v.clusterId}: disabled\n`;
  const sync = v.sync?.syncedAt
    ? v.sync.error
      ? `agent reports: ${v.sync.error}`
      : `agent listening on ${v.sync.listening ?? '?'} (synced ${new Date(v.sync.syncedAt).toISOString()})`
    : 'not yet synced to the agent (it is pushed when the agent is connected)';
  return `local endpoint of ${v.clusterId}: ${v.url ?? '?'} (listen ${v.listen ?? '?'}${v.fqdn ? `, fqdn ${v.fqdn}` : ''})\n${sync}\nkubeconfig: drover kubeconfig ${v.clusterId} (context ${v.clusterId}-local)\n`;
}

export function registerClusterEndpoint(program: Command): void {
  const cluster = program.commands.find((c) => c.name() === 'cluster');
  if (!cluster) throw new Error('registerClusterEndpoint: the cluster command must be registered first');
  addAdminOptions(
    cluster
      .command('endpoint')
      .description("enable, move or disable a cluster's local Kubernetes endpoint (served by its cluster agent; works with the server down)")
      .argument('<id>', 'cluster id (see drover cluster list)')
      .addOption(new Option('--enable', 'serve the local endpoint').env('DROVER_ENDPOINT_ENABLE'))
      .addOption(new Option('--disable', 'stop serving it').conflicts('enable').env('DROVER_ENDPOINT_DISABLE'))
      .addOption(new Option('--listen <addr>', 'HOST:PORT the agent listens on (default 0.0.0.0:9444)').env('DROVER_ENDPOINT_LISTEN'))
      .addOption(new Option('--fqdn <name>', 'DNS name clients use (goes into the certificate and the kubeconfig)').env('DROVER_ENDPOINT_FQDN'))
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover cluster endpoint c-abc123 --enable --listen 0.0.0.0:9444 --fqdn edge-1.example.com\n  drover kubeconfig c-abc123 > kc && kubectl --kubeconfig kc --context c-abc123-local get pods'),
  ).action(
    withExitCodes(async (id: string, opts: AdminOptions & { enable?: boolean; disable?: boolean; listen?: string; fqdn?: string; json?: boolean }) => {
      if (opts.listen !== undefined) {
        const bad = checkListen(opts.listen);
        if (typeof bad === 'string') throw new CliError(EXIT.USAGE, bad);
      }
      const conn = resolveConnection(opts);
      let view: EndpointView;
      if (opts.enable || opts.disable) {
        const body: Record<string, unknown> = { enabled: opts.enable === true };
        if (opts.listen !== undefined) body.listen = opts.listen;
        if (opts.fqdn !== undefined) body.fqdn = opts.fqdn === '' ? null : opts.fqdn;
        view = (await adminRequest(conn, 'POST', `/v1/clusters/${encodeURIComponent(id)}/endpoint`, body)).body as EndpointView;
      } else {
        if (opts.listen !== undefined || opts.fqdn !== undefined) throw new CliError(EXIT.USAGE, '--listen and --fqdn need --enable');
        view = (await adminRequest(conn, 'GET', `/v1/clusters/${encodeURIComponent(id)}/endpoint`)).body as EndpointView;
      }
      process.stdout.write(opts.json ? `${JSON.stringify(view)}\n` : render(view));
    }),
  );
}
