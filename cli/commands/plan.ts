// `drover plan apply|list|status|pause|resume|cancel` (ARCHITECTURE.md §3, issue 15; docs/plans.md).
// `plan apply` checks the plan and every option here first, with the same code the server and the
// node agent use, so a bad plan exits 2 before anything is sent; the server checks again.
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { parse } from 'yaml';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';
import { checkPlan, PlanInvalid } from '../../protocol/index.ts';
import { parseWindow } from '../../server-lite/plans/window.ts';
import { parseConcurrency } from '../../server-lite/plans/plan-service.ts';
import { parseSelectorString } from '../../server-lite/fleet/label-selector.ts';
import type { PlanStatusView } from '../../server-lite/plans/plan-view.ts';

const usage = (message: string): CliError => new CliError(EXIT.USAGE, message);

interface ApplyOptions extends AdminOptions { target?: string; name?: string; concurrency?: string; maxFailures?: string; window?: string }

/** Reads and checks a plan file and the rollout flags; throws exit-2 CliErrors naming what is wrong. */
export function prepareApply(file: string, opts: ApplyOptions): { name: string; document: unknown; target: string; concurrency?: string; maxFailures?: number; window?: string } {
  if (!opts.target) throw usage('--target is required: a label selector for the nodes, e.g. --target env=prod (everything: --target drover.dev/node)');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw usage(`cannot read ${file}: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw usage(`${file} is not YAML: ${(err as Error).message}`);
  }
  let planName: string | undefined;
  try {
    planName = checkPlan(document).name;
  } catch (err) {
    if (err instanceof PlanInvalid) throw usage(`${file}: the plan is invalid:\n  ${err.problems.join('\n  ')}`);
    throw err;
  }
  try {
    parseSelectorString(opts.target);
    if (opts.concurrency !== undefined) parseConcurrency(opts.concurrency);
    if (opts.window !== undefined) parseWindow(opts.window);
  } catch (err) {
    throw usage((err as Error).message);
  }
  let maxFailures: number | undefined;
  if (opts.maxFailures !== undefined) {
    maxFailures = Number(opts.maxFailures);
    if (!/^\d+$/.test(opts.maxFailures)) throw usage(`--max-failures "${opts.maxFailures}": expected a number of nodes (0 or more)`);
  }
  const name = opts.name ?? planName ?? path.basename(file).replace(/\.(ya?ml|json)$/, '');
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,62}[A-Za-z0-9])?$/.test(name)) throw usage(`plan name "${name}": letters, digits, "-", "_" and "." (at most 64); set one with --name`);
  return { name, document, target: opts.target, ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }), ...(maxFailures === undefined ? {} : { maxFailures }), ...(opts.window === undefined ? {} : { window: opts.window }) };
}

export function renderPlanStatus(s: PlanStatusView): string {
  const flags = [s.canceled ? 'canceled' : '', s.paused ? 'paused' : '', s.halted ? `stopped after failures (--max-failures ${s.maxFailures}; \`drover plan resume ${s.name}\` goes on)` : ''].filter(Boolean).join(', ');
  const sum = s.summary;
  const head = [
    `Plan:      ${s.name}${flags ? ` (${flags})` : ''}`,
    `Checksum:  ${s.checksum}`,
    `Target:    ${s.target}  concurrency ${s.concurrency}, max failures ${s.maxFailures}${s.window ? `, window ${s.window}` : ''}`,
    `Nodes:     ${s.nodes.length}: ${sum.succeeded} succeeded, ${sum.inProgress} in progress, ${sum.pending} pending, ${sum.failed} failed, ${sum.rolledBack} rolled back, ${sum.paused} paused, ${sum.canceled} canceled, ${sum.offline} offline (deferred)`,
    '',
  ];
  const rows = [['NODE', 'STATE', 'INSTRUCTION', 'EXIT', 'SINCE', 'MESSAGE']];
  for (const n of s.nodes) rows.push([n.name === n.id ? n.id : `${n.name} (${n.id})`, n.state, n.instruction ?? '-', n.exitCode === null ? '-' : String(n.exitCode), n.since ?? '-', n.message.slice(0, 120)]);
  return `${head.join('\n')}\n${table(rows)}`;
}

export function registerPlan(program: Command): void {
  const plan = program
    .command('plan')
    .description('run plans (files, commands, probes) on nodes through their node agents, with rollback (admin)')
    .addHelpText('after', '\nExample:\n  drover plan apply motd.yaml --target env=prod --concurrency 25% --window "Sat 01:00-05:00"\n  drover plan status motd');

  addAdminOptions(
    plan
      .command('apply')
      .description('store a plan and roll it out to the nodes the selector matches (checked first: a bad plan exits 2, nothing stored)')
      .argument('<file>', 'plan YAML (kind: Plan; see docs/plans.md)')
      .addOption(new Option('--target <selector>', 'label selector over nodes: their cluster\'s labels, drover.dev/cluster, drover.dev/node, kubernetes.io/hostname, node-role.kubernetes.io/control-plane').env('DROVER_PLAN_TARGET'))
      .option('--name <name>', 'plan name (default: metadata.name, else the file name)')
      .option('--concurrency <n|n%>', 'nodes running the plan at once (default 1); control-plane nodes always one at a time, first')
      .option('--max-failures <n>', 'stop the rollout once more than N nodes failed or rolled back (default 0)')
      .option('--window <spec>', 'maintenance window in each node\'s clock, e.g. "Sat 01:00-05:00" or "Mon-Fri 22:00-04:00"')
      .addHelpText('after', '\nExit codes: 2 the plan or an option is invalid (nothing stored).\n\nExample:\n  drover plan apply motd.yaml --target site=berlin --name motd --concurrency 2 --max-failures 1'),
  ).action(
    withExitCodes(async (file: string, opts: ApplyOptions) => {
      const body = prepareApply(file, opts);
      let res;
      try {
        res = await adminRequest(resolveConnection(opts), 'POST', '/v1/plans', body);
      } catch (err) {
        // The server's own check refused it: a usage error too.
        if (err instanceof CliError && /PLAN_INVALID|PLAN_OPTIONS_INVALID/.test(err.message)) throw usage(err.message);
        throw err;
      }
      const r = res.body as { name: string; checksum: string; matched: number };
      process.stdout.write(`plan ${r.name} applied: checksum ${r.checksum}, ${r.matched} node${r.matched === 1 ? '' : 's'} targeted now\n`);
      if (r.matched === 0) process.stderr.write(`drover: warning: --target ${body.target} matches no node yet; nodes that register later and match get the plan\n`);
    }),
  );

  addAdminOptions(
    plan.command('list').description('list plans with their per-state node counts').addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover plan list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/plans')).body as { name: string; checksum: string; target: string; paused: boolean; canceled: boolean; halted: boolean; summary: PlanStatusView['summary'] }[];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['NAME', 'CHECKSUM', 'TARGET', 'SUCCEEDED', 'IN PROGRESS', 'PENDING', 'FAILED', 'OFFLINE', 'STATE']];
      for (const p of rows) {
        const s = p.summary;
        lines.push([p.name, p.checksum.slice(0, 12), p.target, String(s.succeeded), String(s.inProgress), String(s.pending), String(s.failed + s.rolledBack), String(s.offline), p.canceled ? 'canceled' : p.halted ? 'stopped' : p.paused ? 'paused' : 'active']);
      }
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    plan.command('status').description('per node: state, checksum, current instruction, exit code, message, since; Offline nodes are deferred, not failed')
      .argument('<name>', 'plan name').addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover plan status motd --json | jq .summary'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { json?: boolean }) => {
      const s = (await adminRequest(resolveConnection(opts), 'GET', `/v1/plans/${encodeURIComponent(name)}`)).body as PlanStatusView;
      process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : renderPlanStatus(s));
    }),
  );

  for (const [action, what] of [['pause', 'assign the plan to no further node (running ones finish)'], ['resume', 'go on after pause, or after the rollout stopped at --max-failures'], ['cancel', 'stop the rollout; nodes not started cancel, running ones roll back']] as const) {
    addAdminOptions(plan.command(action).description(what).argument('<name>', 'plan name').addHelpText('after', `\nExample:\n  drover plan ${action} motd`)).action(
      withExitCodes(async (name: string, opts: AdminOptions) => {
        await adminRequest(resolveConnection(opts), 'POST', `/v1/plans/${encodeURIComponent(name)}/${action}`);
        process.stdout.write(`plan ${name}: ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'canceled'}\n`);
      }),
    );
  }
}
