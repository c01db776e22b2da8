// `drover role bind|unbind|list`: cluster roles of users (issue 5). Bindings propagate to the
// cluster as ClusterRoleBindings through its cluster agent; `list` shows whether each cluster's
// agent has applied the current set (`propagated`) or not yet (`pending`, e.g. while offline).
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';

const ROLES = ['cluster-owner', 'cluster-member', 'read-only'];
const PROJECT_ROLES = ['project-owner', 'project-member', 'read-only'];

interface BindingRow {
  user: string;
  clusterId: string;
  role: string;
  createdAt: string;
  propagation: string;
}

type BindOpts = AdminOptions & { cluster?: string; project?: string; role: string; group?: string };

/** Exactly one of USER and --group (issue 18: groups of an identity provider, PROVIDER:GROUP). */
function subject(user: string | undefined, opts: BindOpts): { user: string } | { group: string } {
  if ((user === undefined) === (opts.group === undefined)) throw new CliError(EXIT.USAGE, 'name either a USER or --group PROVIDER:GROUP');
  return user !== undefined ? { user } : { group: opts.group ?? '' };
}

const bindingOptions = (cmd: Command): Command =>
  cmd
    .argument('[user]', 'user name (or --group)')
    .addOption(new Option('--group <provider:group>', 'a group of an identity provider, e.g. corp:ops (its members hold the cluster role)').env('DROVER_GROUP'))
    .addOption(new Option('--cluster <id>', 'cluster id (see drover cluster list)').env('DROVER_CLUSTER').conflicts('project'))
    .addOption(new Option('--project <name>', 'project name (see drover project list)').conflicts('cluster'))
    .addOption(new Option('--role <role>', `cluster role (${ROLES.join(', ')}) or, with --project, project role (${PROJECT_ROLES.join(', ')})`).env('DROVER_ROLE').makeOptionMandatory());

/** Where the binding goes: a cluster or a project, with a role valid there (usage error otherwise). */
function scopeOf(opts: BindOpts): { kind: 'cluster'; id: string } | { kind: 'project'; name: string } {
  if (opts.project !== undefined) {
    if (!PROJECT_ROLES.includes(opts.role)) throw new CliError(EXIT.USAGE, `--role with --project must be one of ${PROJECT_ROLES.join(', ')}, got ${opts.role}`);
    if (opts.group !== undefined) throw new CliError(EXIT.USAGE, '--group binds cluster roles (--cluster ID); project roles are bound to users');
    return { kind: 'project', name: opts.project };
  }
  if (opts.cluster === undefined) throw new CliError(EXIT.USAGE, 'give --cluster ID or --project NAME');
  if (!ROLES.includes(opts.role)) throw new CliError(EXIT.USAGE, `--role must be one of ${ROLES.join(', ')}, got ${opts.role}`);
  return { kind: 'cluster', id: opts.cluster };
}

export function registerRole(program: Command): void {
  const role = program
    .command('role')
    .description('bind users to cluster roles (cluster-owner, cluster-member, read-only) or project roles (project-owner, project-member, read-only)')
    .addHelpText('after', '\nExample:\n  drover role bind alice --cluster c-abc123 --role read-only');

  addAdminOptions(
    bindingOptions(role.command('bind').description('give a user (or a group) a role on a cluster, or a user a role in a project (admin)')).addHelpText(
      'after',
      '\nExample:\n  drover role bind alice --cluster c-abc123 --role cluster-member\n  drover role bind --group corp:ops --cluster c-abc123 --role read-only\n  drover role bind carol --project shop --role project-member',
    ),
  ).action(
    withExitCodes(async (user: string | undefined, opts: BindOpts) => {
      const who = subject(user, opts);
      const scope = scopeOf(opts);
      if (scope.kind === 'project') await adminRequest(resolveConnection(opts), 'POST', `/v1/projects/${encodeURIComponent(scope.name)}/bindings`, { user: user ?? '', role: opts.role });
      else await adminRequest(resolveConnection(opts), 'POST', 'group' in who ? '/v1/groupbindings' : '/v1/rolebindings', { ...who, clusterId: scope.id, role: opts.role });
    }),
  );

  addAdminOptions(
    bindingOptions(role.command('unbind').description("remove a user's role on a cluster (admin)")).addHelpText(
      'after',
      '\nExample:\n  drover role unbind alice --cluster c-abc123 --role cluster-member',
    ),
  ).action(
    withExitCodes(async (user: string | undefined, opts: BindOpts) => {
      const who = subject(user, opts);
      const scope = scopeOf(opts);
      const [kind, name] = 'group' in who ? ['groupbindings', who.group] : ['rolebindings', who.user];
      const path =
        scope.kind === 'project'
          ? `/v1/projects/${encodeURIComponent(scope.name)}/bindings/${[user ?? '', opts.role].map(encodeURIComponent).join('/')}`
          : `/v1/${kind}/${[name, scope.id, opts.role].map(encodeURIComponent).join('/')}`;
      await adminRequest(resolveConnection(opts), 'DELETE', path);
    }),
  );

  addAdminOptions(
    role
      .command('list')
      .description('list role bindings (an admin sees all, a user their own)')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addOption(new Option('--cluster <id>', 'only this cluster').env('DROVER_CLUSTER'))
      .addOption(new Option('--user <name>', 'only this user').env('DROVER_USER'))
      .addOption(new Option('--groups', 'list the group bindings instead (admin)'))
      .addHelpText('after', '\nExample:\n  drover role list --cluster c-abc123 --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean; cluster?: string; user?: string; groups?: boolean }) => {
      if (opts.groups) {
        const groups = ((await adminRequest(resolveConnection(opts), 'GET', '/v1/groupbindings')).body as { group: string; clusterId: string; role: string; createdAt: string }[]).filter(
          (b) => opts.cluster === undefined || b.clusterId === opts.cluster,
        );
        if (opts.json) return void process.stdout.write(`${JSON.stringify(groups)}\n`);
        return void process.stdout.write(table([['GROUP', 'CLUSTER', 'ROLE', 'CREATED'], ...groups.map((b) => [b.group, b.clusterId, b.role, b.createdAt])]));
      }
      const all = (await adminRequest(resolveConnection(opts), 'GET', '/v1/rolebindings')).body as BindingRow[];
      const rows = all.filter((b) => (opts.cluster === undefined || b.clusterId === opts.cluster) && (opts.user === undefined || b.user === opts.user));
      if (opts.json) return void process.stdout.write(`${JSON.stringify(rows)}\n`);
      process.stdout.write(table([['USER', 'CLUSTER', 'ROLE', 'PROPAGATION', 'CREATED'], ...rows.map((b) => [b.user, b.clusterId, b.role, b.propagation, b.createdAt])]));
    }),
  );
}
