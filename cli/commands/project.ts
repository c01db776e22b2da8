// `drover project create|list|get|delete|add-namespaces|remove-namespaces` (issue 24): a project is
// a named group of namespaces of one cluster; `drover role bind USER --project NAME --role
// project-owner|project-member|read-only` gives users a role in it, which reaches the cluster as
// RoleBindings in those namespaces only.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';

interface ProjectRow {
  name: string;
  clusterId: string;
  namespaces: string[];
  createdAt: string;
  bindings: { user: string; role: string; createdAt: string }[];
  propagation: string;
}

/** `a,b` → ['a','b']; empty entries are a usage error, not silently dropped. */
export function parseNamespaces(value: string): string[] {
  const list = value.split(',').map((s) => s.trim());
  if (list.some((s) => s === '')) throw new CliError(EXIT.USAGE, `--namespaces takes a comma-separated list of names, got "${value}"`);
  return list;
}

const path = (name: string) => `/v1/projects/${encodeURIComponent(name)}`;

function render(p: ProjectRow): string {
  const lines = [
    `Project:     ${p.name}`,
    `Cluster:     ${p.clusterId}`,
    `Namespaces:  ${p.namespaces.join(', ') || '(none)'}`,
    `RBAC:        ${p.propagation}`,
    `Created:     ${p.createdAt}`,
    '',
  ];
  const rows = [['USER', 'ROLE', 'SINCE'], ...p.bindings.map((b) => [b.user, b.role, b.createdAt])];
  return `${lines.join('\n')}${p.bindings.length > 0 ? table(rows) : 'No role bindings (drover role bind USER --project NAME --role ROLE).\n'}`;
}

export function registerProject(program: Command): void {
  const project = program
    .command('project')
    .description('projects: named groups of namespaces of one cluster, with their own owners, members and readers')
    .addHelpText('after', '\nExample:\n  drover project create shop --cluster c-abc123 --namespaces shop-dev,shop-prod\n  drover role bind carol --project shop --role project-member');

  addAdminOptions(
    project
      .command('create')
      .description('create a project on a cluster (admin)')
      .argument('<name>', 'project name (lowercase letters, digits, -; max 40)')
      .addOption(new Option('--cluster <id>', 'cluster id (see drover cluster list)').makeOptionMandatory())
      .option('--namespaces <a,b>', 'namespaces in the project (they may be created later)')
      .addHelpText('after', '\nExample:\n  drover project create shop --cluster c-abc123 --namespaces shop-dev,shop-prod'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { cluster: string; namespaces?: string }) => {
      const body = { name, clusterId: opts.cluster, ...(opts.namespaces === undefined ? {} : { namespaces: parseNamespaces(opts.namespaces) }) };
      const p = (await adminRequest(resolveConnection(opts), 'POST', '/v1/projects', body)).body as ProjectRow;
      process.stdout.write(`project ${p.name} created on cluster ${p.clusterId} (namespaces: ${p.namespaces.join(', ') || 'none'})\n`);
    }),
  );

  addAdminOptions(
    project
      .command('list')
      .description('list projects (an admin sees all, a user those they hold a role in)')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .option('--cluster <id>', 'only this cluster'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean; cluster?: string }) => {
      const all = (await adminRequest(resolveConnection(opts), 'GET', '/v1/projects')).body as ProjectRow[];
      const rows = all.filter((p) => opts.cluster === undefined || p.clusterId === opts.cluster);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      process.stdout.write(table([['NAME', 'CLUSTER', 'NAMESPACES', 'BINDINGS', 'RBAC'], ...rows.map((p) => [p.name, p.clusterId, p.namespaces.join(',') || '-', String(p.bindings.length), p.propagation])]));
    }),
  );

  addAdminOptions(
    project
      .command('get')
      .description('show a project: cluster, namespaces, who holds which role, whether the cluster has the RBAC yet')
      .argument('<name>', 'project name')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON')),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { json?: boolean }) => {
      const p = (await adminRequest(resolveConnection(opts), 'GET', path(name))).body as ProjectRow;
      process.stdout.write(opts.json ? `${JSON.stringify(p, null, 2)}\n` : render(p));
    }),
  );

  for (const [verb, field, what] of [
    ['add-namespaces', 'addNamespaces', 'add namespaces to a project (admin)'],
    ['remove-namespaces', 'removeNamespaces', "take namespaces out of a project: its users' RoleBindings there go (admin)"],
  ] as const) {
    addAdminOptions(
      project
        .command(verb)
        .description(what)
        .argument('<name>', 'project name')
        .argument('<namespaces>', 'comma-separated namespaces'),
    ).action(
      withExitCodes(async (name: string, namespaces: string, opts: AdminOptions) => {
        const p = (await adminRequest(resolveConnection(opts), 'PATCH', path(name), { [field]: parseNamespaces(namespaces) })).body as ProjectRow;
        process.stdout.write(`project ${p.name}: namespaces ${p.namespaces.join(', ') || '(none)'}\n`);
      }),
    );
  }

  addAdminOptions(
    project
      .command('delete')
      .description("delete a project and its role bindings: its users lose access to its namespaces (the namespaces and their workloads stay) (admin)")
      .argument('<name>', 'project name'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', path(name));
      process.stdout.write(`project ${name} deleted\n`);
    }),
  );
}
