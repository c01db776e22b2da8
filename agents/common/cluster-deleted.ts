// What an agent does when its cluster was deleted on the server (`drover cluster delete`; close
// code 4502 while connected, 410 CLUSTER_DELETED at connect when it was offline): ask the server
// what to clean up, let each role of this process remove what Drover put on the cluster, report
// those roles, and forget the identity once no role of the agent is left to clean up (other
// processes of the same agent may still have theirs to do). With --uninstall-agents the installed
// uninstaller then removes the executable, the units and the state.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Role } from './config.ts';
import { AgentError } from './errors.ts';
import type { Transport } from './https-client.ts';
import { fetchCleanup, reportCleaned, type CleanupOrder } from './server-api.ts';
import type { AgentStore } from './store.ts';

/**
 * A role's clean-up: removes what the role put on the cluster (idempotent: it may run again) and
 * says what it did, for the person reading the agent's last words.
 */
export type RoleCleanup = (order: CleanupOrder) => Promise<string | undefined>;

/** Where install.sh writes the uninstaller (ARCHITECTURE.md §5); DROVER_UNINSTALLER overrides (tests). */
export const UNINSTALLER = '/usr/local/bin/drover-uninstall.sh';

export interface CleanupOutcome {
  order: CleanupOrder;
  /** Roles of this agent still to clean up elsewhere (another process); empty: identity forgotten. */
  remaining: Role[];
  /** What the roles of this process did ("removed 12 RBAC object(s)", …). */
  done: string[];
}

export async function cleanUpDeletedCluster(deps: {
  store: AgentStore;
  transport: Transport;
  roles: readonly Role[];
  cleanups: ReadonlyMap<Role, RoleCleanup>;
  log: Logger;
}): Promise<CleanupOutcome> {
  const id = deps.store.getIdentity();
  if (!id) throw new AgentError('NOT_REGISTERED', 'the identity was removed during the clean-up');
  const order = await fetchCleanup(id.serverUrl, id.caPem, deps.transport, id.credential);
  deps.log.warn({ cluster: order.clusterName, deletedBy: order.deletedBy, deletedAt: order.deletedAt, keepWorkloads: order.keepWorkloads }, 'this cluster was deleted on the server; cleaning up');
  const mine = deps.roles.filter((r) => order.roles.includes(r) && !order.cleanedRoles.includes(r));
  const done: string[] = [];
  for (const role of mine) {
    const fn = deps.cleanups.get(role);
    // Roles that put nothing on the cluster (the node role, a role without a kubeconfig) have nothing to remove.
    const what = fn ? await fn(order) : undefined;
    if (what) done.push(what);
    deps.log.info({ role, done: what ?? 'nothing to remove' }, 'role cleaned up');
  }
  const report = mine.length > 0 ? mine : deps.roles.filter((r) => order.roles.includes(r));
  const remaining = report.length > 0 ? await reportCleaned(id.serverUrl, id.caPem, deps.transport, id.credential, report) : order.roles.filter((r) => !order.cleanedRoles.includes(r));
  if (remaining.length === 0) deps.store.clearIdentity();
  return { order, remaining, done };
}

/**
 * Starts the uninstaller outside this process's own unit (it stops the units, which would kill a
 * child of ours): a transient systemd unit when systemd runs, else a detached process.
 */
export function startUninstaller(env: NodeJS.ProcessEnv, log: Logger): string | undefined {
  const path = env.DROVER_UNINSTALLER ?? UNINSTALLER;
  if (!existsSync(path)) {
    log.warn({ uninstaller: path }, 'uninstall requested but no uninstaller is installed here; remove the executable by hand');
    return undefined;
  }
  const viaSystemd = env.DROVER_UNINSTALLER === undefined && existsSync('/run/systemd/system');
  const [cmd, args] = viaSystemd
    ? ['systemd-run', ['--no-block', '--collect', '--unit', 'drover-uninstall', path, '--remove-state']]
    : ['/bin/sh', [path, '--remove-state']];
  const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
  child.on('error', (err) => log.error({ err: err.message, uninstaller: path }, 'could not start the uninstaller'));
  child.unref();
  log.warn({ uninstaller: path, viaSystemd }, 'uninstalling this agent as the cluster delete asked');
  return path;
}
