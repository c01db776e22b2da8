// Agent upgrade rollouts on the server (issue 16): `drover upgrade agents` starts one (superseding
// any running one), the delivery loop (upgrade-sync.ts) moves it along, `drover upgrade status`
// reads it. Targets are agents whose cluster's labels match `--target`; the planner is the fleet's
// (upgrade-rollout.ts). Rows of agents that are not connected read as Offline (deferred).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AgentUpgradeState } from '../../protocol/contracts/agent-upgrade.ts';
import { matchesSelector, parseSelectorString } from '../fleet/label-selector.ts';
import { ReleaseApiError } from './errors.ts';
import type { ReleaseService } from './release-service.ts';
import type { RolloutRecord, UpgradeAgentRecord } from './upgrade-records.ts';
import { parseMaxUnavailable, pickCanaries, planUpgrade, type RolloutAgent, type UpgradeDecision } from './upgrade-rollout.ts';

export interface UpgradeTargetInfo {
  id: string;
  clusterId: string;
  clusterName: string;
  /** The cluster's labels: what `--target` selects on. */
  labels: Record<string, string>;
  hostname: string;
  arch: string | null;
  version: string | null;
}

export interface StartRequest {
  version: string;
  target?: string | undefined;
  maxUnavailable?: string | undefined;
  canary?: number | undefined;
}

export interface UpgradeAgentView {
  id: string;
  cluster: string;
  hostname: string;
  canary: boolean;
  state: AgentUpgradeState;
  fromVersion: string | null;
  version: string | null;
  bytes: number;
  total: number;
  message: string;
  since: string;
}

export interface UpgradeStatusView {
  id: string;
  version: string;
  target: string;
  maxUnavailable: string;
  canary: number;
  state: RolloutRecord['state'];
  message: string;
  createdAt: string;
  summary: Record<'pending' | 'downloading' | 'staged' | 'restarting' | 'succeeded' | 'rolledBack' | 'failed' | 'offline', number>;
  agents: UpgradeAgentView[];
}

const SUMMARY_KEY: Record<AgentUpgradeState, keyof UpgradeStatusView['summary']> = {
  Pending: 'pending', Downloading: 'downloading', Staged: 'staged', Restarting: 'restarting', Succeeded: 'succeeded', RolledBack: 'rolledBack', Failed: 'failed', Offline: 'offline',
};

export class UpgradeService {
  readonly releases: ReleaseService;
  readonly #targets: () => Promise<UpgradeTargetInfo[]>;
  readonly #online: (agentId: string) => boolean;
  readonly #remote: (() => Promise<ReadonlySet<string>>) | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  /** Set by the sync loop after each pass, for status. */
  lastDecision: UpgradeDecision | undefined;
  kick: () => void = () => {};
  /** Called after a rollout is started here (HA: a wake-up hint to the other replicas). */
  onChange: () => void = () => {};
  /**
   * Replicas (HA): the scheduling replica stores whom it starts (`assigned`), because the replica
   * holding that agent's tunnel delivers; a started agent then keeps its slot until it reports.
   */
  coordinated = false;
  /** Bytes delivered so far to agents downloading right now (the sync loop's in-memory count). */
  progressOf: (agentId: string) => number | undefined = () => undefined;

  constructor(deps: {
    releases: ReleaseService; targets: () => Promise<UpgradeTargetInfo[]>; online: (agentId: string) => boolean; now: () => number; log: Logger;
    /** Agents with a tunnel on another replica (HA). */
    remoteAgents?: (() => Promise<ReadonlySet<string>>) | undefined;
  }) {
    this.releases = deps.releases;
    this.#targets = deps.targets;
    this.#online = deps.online;
    this.#remote = deps.remoteAgents;
    this.#now = deps.now;
    this.#log = deps.log;
  }

  get records() {
    return this.releases.records;
  }

  /** Connected here or, with replicas, to another one. */
  async #onlineNow(): Promise<(agentId: string) => boolean> {
    const remote = (await this.#remote?.()) ?? new Set<string>();
    return (id) => this.#online(id) || remote.has(id);
  }

  /** Validates everything first: a refused upgrade stores nothing. */
  async start(req: StartRequest): Promise<UpgradeStatusView> {
    const target = req.target ?? '';
    let selector;
    try {
      selector = parseSelectorString(target);
    } catch (err) {
      throw new ReleaseApiError('UPGRADE_OPTIONS_INVALID', `--target: ${(err as Error).message}`);
    }
    const maxUnavailable = req.maxUnavailable ?? '1';
    if (parseMaxUnavailable(maxUnavailable) === undefined) throw new ReleaseApiError('UPGRADE_OPTIONS_INVALID', `--max-unavailable "${maxUnavailable}": expected a number of agents (1 or more) or a percentage like 25%`);
    const canary = req.canary ?? 0;
    if (!Number.isInteger(canary) || canary < 0) throw new ReleaseApiError('UPGRADE_OPTIONS_INVALID', `--canary ${canary}: expected a number of agents (0 or more)`);
    const releases = (await this.records.releases()).filter((r) => r.version === req.version);
    if (releases.length === 0) throw new ReleaseApiError('RELEASE_NOT_FOUND', `no release ${req.version} is imported; run drover release import PATH first (see drover release list)`);
    const now = this.#now();
    const targets = (await this.#targets()).filter((a) => matchesSelector(selector, a.labels));
    const canaries = pickCanaries(targets.map((a) => a.id), canary);
    const rollout: RolloutRecord = { id: randomUUID(), version: req.version, target, maxUnavailable, canary: canaries.size, state: 'Running', message: '', createdAt: now, updatedAt: now };
    await this.records.startRollout(rollout, targets.map((a) => this.#pending(rollout.id, a, canaries.has(a.id), now)));
    this.#log.info({ version: req.version, target, maxUnavailable, canary: canaries.size, agents: targets.length }, 'agent upgrade started');
    this.kick();
    this.onChange();
    return this.status();
  }

  #pending(rolloutId: string, a: UpgradeTargetInfo, canary: boolean, now: number): UpgradeAgentRecord {
    return { rolloutId, agentId: a.id, state: 'Pending', canary, fromVersion: a.version, bytes: 0, total: 0, message: '', since: now };
  }

  /**
   * One planning pass over the running rollout: new matching agents get a row, the planner decides
   * who starts now (returned; the sync loop delivers), and the rollout's state follows.
   */
  async plan(decide = true): Promise<{ rollout: RolloutRecord; assign: string[]; targets: Map<string, UpgradeTargetInfo> } | undefined> {
    const rollout = await this.records.activeRollout();
    if (!rollout) return undefined;
    const selector = parseSelectorString(rollout.target);
    const targets = new Map((await this.#targets()).filter((a) => matchesSelector(selector, a.labels)).map((a) => [a.id, a]));
    // Not the scheduling replica: deliver what the scheduler assigned (rows with `assigned`), decide nothing.
    if (!decide) return { rollout, assign: [], targets };
    const rows = new Map((await this.records.agents(rollout.id)).map((r) => [r.agentId, r]));
    const now = this.#now();
    for (const a of targets.values()) {
      if (!rows.has(a.id)) {
        const row = this.#pending(rollout.id, a, false, now);
        await this.records.putAgent(row);
        rows.set(a.id, row);
      }
    }
    const online = await this.#onlineNow();
    const agents: RolloutAgent[] = [...targets.values()].map((a) => {
      const r = rows.get(a.id);
      return { id: a.id, name: a.hostname, labels: a.labels, online: online(a.id), canary: r?.canary ?? false, state: r?.state ?? 'Pending', assigned: this.coordinated && r?.assigned === true };
    });
    const d = planUpgrade({ version: rollout.version, maxUnavailable: parseMaxUnavailable(rollout.maxUnavailable) ?? 1, agents });
    this.lastDecision = d;
    if (rollout.state === 'Running' && d.halted) {
      const why = d.failedCanaries.map((id) => `${id} ${rows.get(id)?.state ?? ''}: ${rows.get(id)?.message ?? ''}`).join('; ');
      await this.records.setRolloutState(rollout.id, 'Halted', `stopped: canary failed (${why})`, now);
      this.#log.warn({ version: rollout.version, failedCanaries: d.failedCanaries }, 'agent upgrade stopped: a canary failed');
    } else if (rollout.state === 'Running' && d.done && agents.length > 0) {
      await this.records.setRolloutState(rollout.id, 'Done', '', now);
      this.#log.info({ version: rollout.version, agents: agents.length }, 'agent upgrade done');
    }
    const assign = d.halted ? [] : d.assign;
    if (this.coordinated && rollout.state === 'Running') await this.records.markAssigned(rollout.id, assign);
    return { rollout, assign, targets };
  }

  async status(): Promise<UpgradeStatusView> {
    const rollout = await this.records.latestRollout();
    if (!rollout) throw new ReleaseApiError('UPGRADE_NOT_FOUND', 'no agent upgrade has been started (drover upgrade agents --version V)');
    const targets = new Map((await this.#targets()).map((a) => [a.id, a]));
    const summary: UpgradeStatusView['summary'] = { pending: 0, downloading: 0, staged: 0, restarting: 0, succeeded: 0, rolledBack: 0, failed: 0, offline: 0 };
    const online = await this.#onlineNow();
    const agents = (await this.records.agents(rollout.id)).map((r): UpgradeAgentView => {
      const t = targets.get(r.agentId);
      const state: AgentUpgradeState = r.state === 'Pending' && !online(r.agentId) ? 'Offline' : r.state;
      summary[SUMMARY_KEY[state]] += 1;
      return {
        id: r.agentId, cluster: t?.clusterName ?? '', hostname: t?.hostname ?? '', canary: r.canary, state, fromVersion: r.fromVersion, version: t?.version ?? null,
        bytes: this.progressOf(r.agentId) ?? r.bytes, total: r.total, message: r.message, since: new Date(r.since).toISOString(),
      };
    });
    return {
      id: rollout.id, version: rollout.version, target: rollout.target, maxUnavailable: rollout.maxUnavailable, canary: rollout.canary, state: rollout.state, message: rollout.message,
      createdAt: new Date(rollout.createdAt).toISOString(), summary, agents,
    };
  }
}
