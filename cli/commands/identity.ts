// `drover identity list|revoke`: agent identities (one per device). Revoking a credential closes
// the agent's tunnels at once and refuses every reconnect (issue 4).
import { Option, type Command } from 'commander';
import { addAdminOptions, adminRequest, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';

interface AgentRow {
  id: string;
  clusterId: string;
  hostname: string;
  roles: string[];
  state: string;
  lastSeen: string | null;
  revokedAt: string | null;
  removedAt: string | null;
  sessions: unknown[];
}

export function registerIdentity(program: Command): void {
  const identity = program
    .command('identity')
    .description('list and revoke agent identities (admin)')
    .addHelpText('after', '\nExample:\n  drover identity revoke a-7hq2m4x9kd --data-dir /var/lib/drover/server');

  addAdminOptions(
    identity
      .command('list')
      .description('list agent identities with their roles, state and open tunnels')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover identity list --data-dir /var/lib/drover/server'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/agents')).body as AgentRow[];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['AGENT', 'CLUSTER', 'HOST', 'ROLES', 'STATE', 'TUNNELS', 'LAST SEEN']];
      for (const a of rows) {
        const state = a.revokedAt ? 'revoked' : a.removedAt ? 'removed' : a.state;
        lines.push([a.id, a.clusterId, a.hostname, a.roles.join(','), state, String(a.sessions.length), a.lastSeen ?? 'never']);
      }
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    identity
      .command('revoke')
      .description("revoke an agent's credential: its tunnels close now and it cannot reconnect")
      .argument('<agent-id>', 'agent id (see `drover identity list`)')
      .addHelpText('after', '\nExample:\n  drover identity revoke a-7hq2m4x9kd --data-dir /var/lib/drover/server'),
  ).action(
    withExitCodes(async (id: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'POST', `/v1/agents/${encodeURIComponent(id)}/revoke`);
      process.stderr.write(`agent ${id} revoked\n`);
    }),
  );
}
