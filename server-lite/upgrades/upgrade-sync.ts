// The delivery loop of agent upgrades (issue 16): every pass plans (upgrade-service.ts), then for
// each agent the planner starts, and each agent mid-upgrade whose tunnel is up, talks to the agent
// over `http:drover-upgrade` on one of its tunnels (protocol/contracts/agent-upgrade.ts): reads its
// state, sends the order (the signed sums, which the agent verifies with its own key), and streams
// the executable from the offset the agent already holds (a dropped tunnel resumes, never
// restarts). The agent swaps and restarts by itself; a later pass reads Succeeded or RolledBack.
import fs from 'node:fs';
import { Transform } from 'node:stream';
import type { Logger } from 'pino';
import { requestOverStream, type TunnelStream } from '../../protocol/index.ts';
import { UPGRADE_ARTIFACT_PATH, UPGRADE_PATH, UPGRADE_TARGET, upgradeStateSchema, type UpgradeStateWire } from '../../protocol/contracts/agent-upgrade.ts';
import type { ReleaseRecord, RolloutRecord, UpgradeAgentRecord } from './upgrade-records.ts';
import type { UpgradeService, UpgradeTargetInfo } from './upgrade-service.ts';
import { gzipped, type Encoded } from './compressed-artifact.ts';

export interface UpgradeSession {
  agentId: string;
  openStream(target: string, metadata: Record<string, string>): TunnelStream;
}

/** Downloads the server streams at once, whatever --max-unavailable allows: a thousand executables
 *  at once share the link so thinly that each would hit its deadline (bench/upgrades.ts). */
const MAX_CONCURRENT_DOWNLOADS = 64;
/** How long one small call (state, order) may take. */
const CALL_TIMEOUT_MS = 30_000;

async function call(session: UpgradeSession, method: string, path: string, body: Buffer | fs.ReadStream | Transform | undefined, timeoutMs: number, length?: number): Promise<UpgradeStateWire> {
  const stream = session.openStream(UPGRADE_TARGET, {});
  const timer = setTimeout(() => stream.destroy(new Error(`no answer from agent ${session.agentId} within ${timeoutMs} ms`)), timeoutMs);
  try {
    const headers: Record<string, string | number> = { host: 'drover-agent' };
    if (Buffer.isBuffer(body)) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
    else if (body !== undefined) Object.assign(headers, { 'content-type': 'application/octet-stream', ...(length === undefined ? {} : { 'content-length': length }) });
    const result = await requestOverStream(stream, { method, path, headers, ...(body === undefined ? {} : { body }) });
    if (result.kind !== 'response') throw new Error('the agent answered with an upgrade');
    const chunks: Buffer[] = [];
    for await (const c of result.response as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    const json = JSON.parse(text) as unknown;
    if ((result.response.statusCode ?? 0) >= 400) {
      const e = (json as { error?: { code?: string; message?: string } }).error;
      throw Object.assign(new Error(`${e?.code ?? 'ERROR'}: ${e?.message ?? text.slice(0, 200)}`), { agentCode: e?.code });
    }
    return upgradeStateSchema.parse(json);
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
}

export class UpgradeSync {
  readonly #service: UpgradeService;
  readonly #sessions: () => Map<string, UpgradeSession>;
  readonly #log: Logger;
  readonly #syncMs: number;
  readonly #now: () => number;
  readonly #inflight = new Set<string>();
  /** Bytes sent so far per agent while a download runs: kept in memory (status reads it), not
   *  written to the store on every chunk — 1,000 agents' progress rows would be thousands of
   *  synchronous commits a second (bench/upgrades.ts found it). The store gets the final count. */
  readonly progress = new Map<string, number>();
  /**
   * Whether this replica plans the rollout (new rows, whom to start, Halted/Done). Delivery to the
   * agents whose tunnels are here runs on every replica; planning on the holder of the
   * upgrade-scheduling lease only (plans/ha-scheduling.ts). A single server always plans.
   */
  scheduling = true;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(service: UpgradeService, sessions: () => Map<string, UpgradeSession>, log: Logger, now: () => number, syncMs = 1000) {
    this.#service = service;
    this.#sessions = sessions;
    this.#log = log;
    this.#now = now;
    this.#syncMs = syncMs;
    service.kick = () => this.kick();
    service.progressOf = (id) => this.progress.get(id);
  }

  start(): void {
    this.#timer = setInterval(() => this.kick(), this.#syncMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }

  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((err: unknown) => this.#log.error({ err }, 'agent upgrade pass failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** Agents being talked to right now (tests, bench). */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** A Halted rollout found with nothing moving: later passes have nothing to do for it. */
  #settled: string | undefined;

  async #pass(): Promise<void> {
    // A halted rollout stays the active one until the next `upgrade agents`: without this the
    // 1 s safety net would list every agent and cluster each second for nothing, for ever.
    const active = await this.#service.records.activeRollout();
    if (!active || (active.state === 'Halted' && active.id === this.#settled)) return;
    const sessions = this.#sessions();
    // Nothing to deliver here and nothing to decide: no listing of agents and clusters.
    if (!this.scheduling && sessions.size === 0) return;
    const p = await this.#service.plan(this.scheduling);
    if (!p) return;
    const rows = new Map((await this.#service.records.agents(p.rollout.id)).map((r) => [r.agentId, r]));
    const moving = (state: string): boolean => state === 'Downloading' || state === 'Staged' || state === 'Restarting';
    if (p.rollout.state === 'Halted' && this.#inflight.size === 0 && ![...rows.values()].some((r) => moving(r.state))) this.#settled = p.rollout.id;
    const start = new Set(p.assign);
    for (const [id, row] of rows) {
      const target = p.targets.get(id);
      const session = sessions.get(id);
      if (!target || !session || this.#inflight.has(id)) continue;
      // Pending agents start only when the planner says so (and never in a stopped rollout).
      if (!moving(row.state) && !(row.state === 'Pending' && (start.has(id) || row.assigned === true) && p.rollout.state === 'Running')) continue;
      // Polling a restarting agent is cheap; starting or resuming a download waits for a free slot.
      if (row.state !== 'Restarting' && this.#inflight.size >= MAX_CONCURRENT_DOWNLOADS) continue;
      this.#inflight.add(id);
      void this.#drive(p.rollout, row, target, session)
        .catch((err: unknown) => this.#log.warn({ err: (err as Error).message, agentId: id }, 'agent upgrade: storing the outcome failed; retried on a later pass'))
        .finally(() => {
        this.#inflight.delete(id);
        this.kick();
      });
    }
  }

  async #put(row: UpgradeAgentRecord, patch: Partial<UpgradeAgentRecord>): Promise<UpgradeAgentRecord> {
    const next = { ...row, ...patch, since: patch.state !== undefined && patch.state !== row.state ? this.#now() : row.since };
    await this.#service.records.putAgent(next);
    return next;
  }

  async #drive(rollout: RolloutRecord, row: UpgradeAgentRecord, target: UpgradeTargetInfo, session: UpgradeSession): Promise<void> {
    const log = this.#log.child({ agentId: target.id, version: rollout.version });
    const release = target.arch ? await this.#service.records.release(rollout.version, target.arch) : undefined;
    if (!release) {
      await this.#put(row, { state: 'Failed', message: `release ${rollout.version} has no executable for ${target.arch ?? 'an unknown CPU'} (drover release import it)` });
      return;
    }
    try {
      let s = await call(session, 'GET', UPGRADE_PATH, undefined, CALL_TIMEOUT_MS);
      const ours = s.sha256 === release.sha256;
      if (s.runningSha256 === release.sha256 && (s.phase === 'Idle' || s.phase === 'Succeeded')) {
        // What went over the wire stays shown (compressed when it was); the size when nothing did.
        const sent = row.total > 0 ? row.total : release.size;
        await this.#put(row, { state: 'Succeeded', bytes: sent, total: sent, message: `running ${s.runningVersion}` });
        return;
      }
      if (ours && (s.phase === 'RolledBack' || s.phase === 'Failed')) {
        await this.#put(row, { state: s.phase, message: s.message });
        return;
      }
      if (ours && (s.phase === 'Restarting' || s.phase === 'Staged')) {
        await this.#put(row, { state: 'Restarting', message: s.message });
        return;
      }
      if (row.state === 'Restarting') {
        // Back on something else without a verdict (the state file was lost): report, do not loop.
        await this.#put(row, { state: 'Failed', message: `the agent came back running ${s.runningVersion} with no upgrade record (${s.phase}: ${s.message})` });
        return;
      }
      // Compressed for agents that take it (decision 1130); the raw executable for older ones.
      const encoded = s.encodings?.includes('gzip') ? await gzipped(await this.#service.releases.localFile(release)) : undefined;
      if (!(ours && s.phase === 'Downloading' && s.total === (encoded?.size ?? release.size))) {
        const order = { version: release.version, sums: release.sums, signature: release.signature, size: release.size, ...(encoded ? { encoding: 'gzip', encodedSize: encoded.size } : {}) };
        s = await call(session, 'POST', UPGRADE_PATH, Buffer.from(JSON.stringify(order)), CALL_TIMEOUT_MS);
        if (s.phase === 'Failed') {
          await this.#put(row, { state: 'Failed', message: s.message });
          return;
        }
      }
      row = await this.#put(row, { state: 'Downloading', bytes: s.bytes, total: s.total, message: '' });
      s = await this.#send(session, release, s.bytes, encoded);
      const state = s.phase === 'Staged' || s.phase === 'Restarting' ? 'Restarting' : s.phase === 'Failed' || s.phase === 'RolledBack' ? s.phase : 'Downloading';
      await this.#put(row, { state, bytes: s.bytes, message: s.message });
      log.info({ phase: s.phase }, 'agent upgrade: artifact delivered');
    } catch (err) {
      const message = (err as Error).message.slice(0, 500);
      log.warn({ err: message }, 'agent upgrade: call failed; retried on a later pass');
      await this.#put(row, { message });
    }
  }

  /** Streams the executable (or its gzip) from `offset`; progress is kept in memory as it goes. */
  async #send(session: UpgradeSession, release: ReleaseRecord, offset: number, encoded?: Encoded): Promise<UpgradeStateWire> {
    const size = encoded?.size ?? release.size;
    let sent = offset;
    const progress = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        sent += chunk.length;
        this.progress.set(session.agentId, sent);
        cb(null, chunk);
      },
    });
    const file = fs.createReadStream(encoded?.file ?? await this.#service.releases.localFile(release), { start: offset });
    file.on('error', (err) => progress.destroy(err));
    file.pipe(progress);
    // A large executable over a slow link: the deadline scales with the size (≥ 64 KiB/s).
    const timeout = CALL_TIMEOUT_MS + Math.ceil((size - offset) / 64);
    try {
      return await call(session, 'PUT', `${UPGRADE_ARTIFACT_PATH}?offset=${offset}`, progress, timeout, size - offset);
    } finally {
      this.progress.delete(session.agentId);
    }
  }
}
