// `drover agent status`: the contract shape (ARCHITECTURE.md §3) built from the local store
// alone, so it answers while the server is down. A role whose process has died is reported
// disconnected even if its last row says connected: status must never claim a live tunnel
// that nobody holds.
import type { Role } from './config.ts';
import { ROLES } from './config.ts';
import type { Identity, RoleState } from './store.ts';

export interface RoleStatus {
  name: Role;
  state: 'connected' | 'connecting' | 'disconnected';
  since: string | null;
  lastError: string | null;
  nextRetryAt: string | null;
  pid: number | null;
  /** The server URL this role uses (or last tried): during a URL change, the new or the previous one. */
  server?: string | null;
}

export interface AgentStatus {
  server: string;
  clusterId: string;
  nodeId: string;
  agentId: string;
  version: string;
  caSha256: string;
  credentialExpiresAt: string | null;
  roles: RoleStatus[];
  /** Filled by the fleet agent (bundles issue); empty until then. */
  bundles: { name: string; state: string; revision: string; appliedAt: string | null; appliedRevision?: string | null; message?: string }[];
  /** Status messages queued for the server (fleet issue); 0 until then. */
  outbox: number;
}

export const NOT_RUNNING = 'agent process not running';

export function buildStatus(
  identity: Identity,
  states: readonly RoleState[],
  agentVersion: string,
  isAlive: (pid: number) => boolean,
): AgentStatus {
  const byRole = new Map(states.map((s) => [s.role, s]));
  const names = ROLES.filter((r) => identity.roles.includes(r) || byRole.has(r));
  const roles = names.map((name): RoleStatus => {
    const s = byRole.get(name);
    if (!s) return { name, state: 'disconnected', since: null, lastError: 'not started yet', nextRetryAt: null, pid: null };
    if (s.pid !== null && !isAlive(s.pid)) {
      return {
        name,
        state: 'disconnected',
        since: s.state === 'disconnected' ? s.since : s.updatedAt,
        lastError: s.lastError ? `${NOT_RUNNING}; last error: ${s.lastError}` : NOT_RUNNING,
        nextRetryAt: null,
        pid: null,
      };
    }
    return { name, state: s.state, since: s.since, lastError: s.lastError, nextRetryAt: s.nextRetryAt, pid: s.pid, ...(s.serverUrl ? { server: s.serverUrl } : {}) };
  });
  return {
    server: identity.serverUrl,
    clusterId: identity.clusterId,
    nodeId: identity.nodeId,
    agentId: identity.agentId,
    version: agentVersion,
    caSha256: identity.caSha256,
    credentialExpiresAt: identity.credentialExpiresAt,
    roles,
    bundles: [],
    outbox: 0,
  };
}

/** `kill(pid, 0)`: true while a process with that pid exists (EPERM also means it exists). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function formatStatus(s: AgentStatus): string {
  const lines = [
    `server:   ${s.server}`,
    `cluster:  ${s.clusterId}`,
    `node:     ${s.nodeId}`,
    `agent:    ${s.agentId} (drover ${s.version})`,
    `bundles:  ${s.bundles.length}   outbox: ${s.outbox}`,
    '',
  ];
  const rows = [['ROLE', 'STATE', 'SINCE', 'SERVER', 'NEXT RETRY', 'LAST ERROR']];
  for (const r of s.roles) rows.push([r.name, r.state, r.since ?? '-', r.server ?? '-', r.nextRetryAt ?? '-', r.lastError ?? '-']);
  table(lines, rows);
  if (s.bundles.length > 0) {
    lines.push('');
    const bundles = [['BUNDLE', 'STATE', 'REVISION', 'APPLIED AT', 'MESSAGE']];
    for (const b of s.bundles) bundles.push([b.name, b.state, b.revision.slice(0, 12), b.appliedAt ?? '-', b.message ?? '']);
    table(lines, bundles);
  }
  return lines.join('\n') + '\n';
}

function table(lines: string[], rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  for (const row of rows) lines.push(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '));
}
