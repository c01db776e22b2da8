// `drover node list|get` (ARCHITECTURE.md §3): registered nodes, their state and facts, and on
// `get` the plans each has run (state, checksum, instruction, exit code, output per step).
import { Option, type Command } from 'commander';
import { addAdminOptions, adminRequest, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';

interface NodeRow { id: string; clusterId: string; name: string; state: string; lastSeen: string | null; roles: string[]; facts: Record<string, unknown> }
interface NodeDetail extends NodeRow {
  nodeAgent: string;
  utcOffsetMinutes: number | null;
  plans: { name: string; state: string | null; checksum: string | null; source: string | null; instruction: string | null; exitCode: number | null; message: string | null; since: string | null; steps: Record<string, { exitCode: number | null; output: string; runs: number }> }[];
}

export function renderNode(n: NodeDetail): string {
  const facts = Object.entries(n.facts).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k}=${String(v)}`).join(', ');
  const lines = [
    `Node:       ${n.name} (${n.id})`,
    `Cluster:    ${n.clusterId}`,
    `State:      ${n.state} (node agent ${n.nodeAgent}), last seen ${n.lastSeen ?? 'never'}`,
    `Roles:      ${n.roles.join(', ') || '-'}`,
    `Facts:      ${facts || '-'}`,
    '',
  ];
  if (n.plans.length === 0) return `${lines.join('\n')}No plans.\n`;
  const rows = [['PLAN', 'STATE', 'CHECKSUM', 'INSTRUCTION', 'EXIT', 'SINCE', 'MESSAGE']];
  for (const p of n.plans) rows.push([p.name, p.state ?? 'Pending', (p.checksum ?? '-').slice(0, 12), p.instruction ?? '-', p.exitCode === null ? '-' : String(p.exitCode), p.since ?? '-', (p.message ?? '').slice(0, 100)]);
  return `${lines.join('\n')}${table(rows)}`;
}

export function registerNode(program: Command): void {
  const node = program.command('node').description('registered nodes and the plans they ran (admin)')
    .addHelpText('after', '\nExample:\n  drover node list\n  drover node get n-abc123');

  addAdminOptions(
    node.command('list').description('list nodes with their state and roles').addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover node list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/nodes')).body as NodeRow[];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['ID', 'NAME', 'CLUSTER', 'STATE', 'LAST SEEN', 'ROLES']];
      for (const n of rows) lines.push([n.id, n.name, n.clusterId, n.state, n.lastSeen ?? 'never', n.roles.join(',') || '-']);
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    node.command('get').description('show one node: state, facts, plans (--json: with each step\'s exit code and output)')
      .argument('<id>', 'node id or name (see `drover node list`)').addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover node get n-abc123 --json'),
  ).action(
    withExitCodes(async (id: string, opts: AdminOptions & { json?: boolean }) => {
      const n = (await adminRequest(resolveConnection(opts), 'GET', `/v1/nodes/${encodeURIComponent(id)}`)).body as NodeDetail;
      process.stdout.write(opts.json ? `${JSON.stringify(n, null, 2)}\n` : renderNode(n));
    }),
  );
}
