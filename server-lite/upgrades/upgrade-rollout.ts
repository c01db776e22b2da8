// Which agents get a release now (pure, issue 16). The fleet's one planner decides (deployments.ts
// nextAssignments → rollout.ts, decision 0804), as for node plans (plans/plan-rollout.ts): agents
// are its targets, the release's version the revision, `--max-unavailable` the maxUnavailable, and
// the `--canary N` agents a first partition (maxUnavailable N), so everyone else waits until the
// canaries are done. What the planner does not know is decided here: a canary that Failed or
// RolledBack stops the rollout (the planner is paused: nothing more moves).
import type { AgentUpgradeState } from '../../protocol/contracts/agent-upgrade.ts';
import { nextAssignments, type CurrentAssignment } from '../fleet/deployments.ts';
import type { IntOrPercent } from '../fleet/fleet-yaml.ts';
import type { RolloutPlan } from '../fleet/rollout.ts';

/** A label only the planner sees: marks the canaries so the first partition selects them. */
export const CANARY_LABEL = 'upgrade.drover.dev/canary';

export interface RolloutAgent {
  id: string;
  name: string;
  labels: Record<string, string>;
  online: boolean;
  canary: boolean;
  /** Stored state of this agent in the rollout (Pending: not yet told). */
  state: Exclude<AgentUpgradeState, 'Offline'>;
  /** Told to start by an earlier decision and not yet reached by its replica (HA): it holds a slot. */
  assigned?: boolean;
}

export interface UpgradeDecision {
  assign: string[];
  /** A canary failed: the rollout stops. */
  halted: boolean;
  failedCanaries: string[];
  /** Every online and offline target has finished (Succeeded, Failed or RolledBack). */
  done: boolean;
  plan: RolloutPlan;
}

const FINISHED: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'RolledBack']);
const FAILED: ReadonlySet<string> = new Set(['Failed', 'RolledBack']);
const MOVING: ReadonlySet<string> = new Set(['Downloading', 'Staged', 'Restarting']);

/** `--max-unavailable`: a number of agents (1 or more) or a percentage. */
export function parseMaxUnavailable(text: string): IntOrPercent | undefined {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  const n = Number(m?.[1]);
  if (!m || n < 1 || (m[2] === '%' && n > 100)) return undefined;
  return m[2] === '%' ? `${n}%` : n;
}

export function planUpgrade(input: { version: string; maxUnavailable: IntOrPercent; agents: readonly RolloutAgent[] }): UpgradeDecision {
  const failedCanaries = input.agents.filter((a) => a.canary && FAILED.has(a.state)).map((a) => a.id);
  const halted = failedCanaries.length > 0;
  const canaries = input.agents.filter((a) => a.canary).length;
  const current = new Map<string, CurrentAssignment>();
  // Done with this release, whatever the outcome, frees its slot; only a canary's failure stops the rest.
  for (const a of input.agents) if (a.state !== 'Pending' || a.assigned === true) current.set(a.id, { desiredRevision: input.version, ready: FINISHED.has(a.state) });
  const update = nextAssignments({
    revision: input.version,
    targets: input.agents.map((a) => ({ clusterId: a.id, revision: input.version })),
    clusters: new Map(input.agents.map((a) => [a.id, { name: a.name, labels: a.canary ? { ...a.labels, [CANARY_LABEL]: 'true' } : a.labels }])),
    // An agent mid-upgrade is away while it restarts: that is the upgrade, not an Offline agent, so
    // it keeps its slot and keeps its partition (the canaries) open until it reports back.
    online: new Set(input.agents.filter((a) => a.online || MOVING.has(a.state)).map((a) => a.id)),
    current,
    paused: halted,
    strategy: {
      maxUnavailable: input.maxUnavailable,
      partitions: canaries > 0 ? [{ name: 'canary', maxUnavailable: canaries, clusterSelector: { matchExpressions: [{ key: CANARY_LABEL, operator: 'Exists' }] } }] : [],
    },
  });
  return { assign: update.assign.map((a) => a.clusterId), halted, failedCanaries, done: input.agents.every((a) => FINISHED.has(a.state)), plan: update.plan };
}

/** The canaries of a new rollout: the first N target ids in order (stable, so a rerun picks the same). */
export function pickCanaries(ids: readonly string[], n: number): Set<string> {
  return new Set([...ids].sort().slice(0, Math.max(0, n)));
}
