// The node role inside `drover agent run`: the plan agent starts with the process on the agent's
// own SQLite database, whether or not the server is reachable (a delivered plan runs to the end with
// the link down; the local plan directory works with no server at all). Streams the server opens on
// the node tunnel are dispatched by target: plans here; the remote shell and the fallback
// Kubernetes proxy register theirs in `extraTargets` (issue 15, shell/fallback part).
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { createStreamHttpServer, NODE_PLAN_TARGET, type TunnelStream } from '../../protocol/index.ts';
import { PlanAgent } from './plan-agent.ts';
import { planEndpoint } from './plan-endpoint.ts';

export interface NodeRoleContext {
  db: Database;
  dataDir: string;
  logger: Logger;
  onStop(fn: () => Promise<void>): void;
  /** Local plan directory and periodic check interval (DROVER_NODE_PLAN_SCAN_MS). */
  scanMs?: number | undefined;
  /** Tells the server results are queued (run-agent.ts RoleContext.notifyOutbox, decision 1041). */
  notifyOutbox?: ((queued: number) => void) | undefined;
  /** Other stream targets of the node role (shell, fallback proxy), by target name. */
  extraTargets?: ReadonlyMap<string, (stream: TunnelStream) => void> | undefined;
}

export function startNodeRole(ctx: NodeRoleContext): { plans: PlanAgent; onStream: (stream: TunnelStream) => void } {
  const plans = new PlanAgent({ db: ctx.db, dataDir: ctx.dataDir, log: ctx.logger, scanMs: ctx.scanMs });
  plans.start();
  ctx.logger.info({ plans: plans.resumePoint().length, dir: plans.plansDir }, 'node agent running plans from local state');
  // Results are announced to the server when the outbox gains rows, so it need not poll for them
  // (decision 1041): a local check each second, no traffic while nothing changes.
  let announced = '';
  const notify = ctx.notifyOutbox;
  const watcher = notify === undefined ? undefined : setInterval(() => {
    const n = plans.store.outbox.length();
    const key = n === 0 ? '' : `${n}/${plans.store.outbox.peek(1)[0]?.seq ?? 0}`;
    if (key !== '' && key !== announced) notify(n);
    announced = key;
  }, 1_000);
  watcher?.unref();
  ctx.onStop(() => {
    clearInterval(watcher);
    return plans.stop();
  });
  const server = createStreamHttpServer({ request: planEndpoint(plans, ctx.logger) });
  const targets = new Map<string, (stream: TunnelStream) => void>([[NODE_PLAN_TARGET, (s) => server.serve(s)], ...(ctx.extraTargets ?? [])]);
  return {
    plans,
    onStream(stream) {
      stream.on('error', () => {});
      const serve = targets.get(stream.target);
      if (serve) serve(stream);
      else stream.reset('STREAM_REFUSED', `the node agent does not serve ${stream.target.slice(0, 64)}`);
    },
  };
}
