// Polls one gitrepo: sync the checkout, discover its bundles, report. Runs every interval, backs off
// exponentially while git fails, and `pollNow()` (the webhook) polls at once. Polls never overlap:
// a pollNow() during a poll runs one more poll right after it, because the push that triggered the
// webhook may have landed after the running fetch began. Timers and randomness are injected.
import type { Logger } from 'pino';
import { backoffDelay } from './backoff.ts';
import { scanBundles, type DiscoveredBundle, type DiscoveryResult } from './discovery.ts';
import { FleetError, isFleetError } from './errors.ts';
import { redactUrl, syncCheckout, type GitSourceSpec } from './git-checkout.ts';
import type { GitCredentials } from './source-secrets.ts';
import { FLEET_LIMITS } from './limits.ts';

export interface PollerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: PollerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface PollResult {
  /** The commit checked out, when git succeeded. */
  commit?: string | undefined;
  /** The commit differs from the previous successful poll's (true on the first). */
  changed: boolean;
  bundles: DiscoveredBundle[];
  /** Bundles whose fleet.yaml is bad, each with its error; the other bundles are still reported. */
  failed: DiscoveryResult['failed'];
  /** Set when git or the scan failed; bundles is then empty (nothing partial). */
  error?: FleetError | undefined;
  /** Consecutive git failures so far (0 after a success). */
  failures: number;
  /** When the next scheduled poll runs, in ms from now. */
  nextPollMs: number;
}

export interface GitPollerOptions extends GitSourceSpec {
  /** The gitrepo name, prefix of its bundle names. */
  name: string;
  paths?: readonly string[] | undefined;
  workDir: string;
  intervalMs?: number | undefined;
  git?: string | undefined;
  timers?: PollerTimers | undefined;
  random?: (() => number) | undefined;
  onPoll?: ((result: PollResult) => void) | undefined;
  log?: Logger | undefined;
  /**
   * Credentials for this poll, looked up at every poll (a rotated secret is used by the next one);
   * cleanup() runs as soon as git is done, whether it succeeded or not.
   */
  credentials?: (() => Promise<GitCredentials>) | undefined;
}

export class GitPoller {
  readonly #opts: GitPollerOptions;
  readonly #timers: PollerTimers;
  #timer: unknown;
  #running: Promise<PollResult> | undefined;
  #queued: Promise<PollResult> | undefined;
  #stopped = true;
  #lastCommit: string | undefined;
  #failures = 0;

  constructor(opts: GitPollerOptions) {
    this.#opts = opts;
    this.#timers = opts.timers ?? realTimers;
  }

  get lastCommit(): string | undefined {
    return this.#lastCommit;
  }

  /** Starts polling: the first poll runs at once. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops scheduling and waits for a poll in flight to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([this.#running, this.#queued]);
  }

  /** Polls now (the webhook trigger); coalesces with polls already queued. */
  pollNow(): Promise<PollResult> {
    if (this.#running === undefined) return this.#run();
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      return this.#run();
    });
    return this.#queued;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      void this.pollNow();
    }, ms);
  }

  #run(): Promise<PollResult> {
    const p = this.#poll().finally(() => {
      if (this.#running === p) this.#running = undefined;
    });
    this.#running = p;
    return p;
  }

  async #poll(): Promise<PollResult> {
    const o = this.#opts;
    let commit: string | undefined;
    let changed = false;
    let result: Omit<PollResult, 'nextPollMs' | 'failures'>;
    try {
      const creds = await o.credentials?.();
      try {
        commit = await syncCheckout(o, o.workDir, o.git, creds?.env);
      } finally {
        await creds?.cleanup();
      }
      this.#failures = 0;
      changed = commit !== this.#lastCommit;
      this.#lastCommit = commit;
      const scan = await scanBundles(o.workDir, { paths: o.paths, prefix: o.name });
      result = { commit, changed, bundles: scan.bundles, failed: scan.failed };
    } catch (e) {
      const error = isFleetError(e) ? e : new FleetError('GIT_FAILED', `gitrepo ${o.name}: ${(e as Error).message}`, {}, { cause: e });
      // Only git failures back off: a bad fleet.yaml in a fetched commit will not heal by retrying sooner.
      if (commit === undefined) this.#failures += 1;
      result = { commit, changed, bundles: [], failed: [], error };
    }
    const interval = o.intervalMs ?? FLEET_LIMITS.gitPollIntervalMs;
    const nextPollMs =
      this.#failures > 0
        ? backoffDelay(this.#failures, { baseMs: FLEET_LIMITS.gitBackoffBaseMs, maxMs: Math.max(interval, FLEET_LIMITS.gitBackoffMaxMs) }, o.random)
        : interval;
    this.#schedule(nextPollMs);
    const full: PollResult = { ...result, failures: this.#failures, nextPollMs };
    const fields = { gitrepo: o.name, repo: redactUrl(o.repo), commit, failures: this.#failures, nextPollMs };
    if (result.error) o.log?.warn({ ...fields, code: result.error.code, err: result.error.message }, 'gitrepo poll failed');
    else if (changed) o.log?.info({ ...fields, bundles: result.bundles.length, failed: full.failed.length }, 'gitrepo at new commit');
    o.onPoll?.(full);
    return full;
  }
}
