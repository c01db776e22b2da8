// Per-agent budget for the frames an agent sends that cost the server an answer or work: OPEN (the
// server serves no agent-opened stream, so each is answered with a RESET), PING (a PONG), CONTROL
// (validation, maybe a store write or an `error` answer) and HELLO. A token bucket per agent,
// shared by the agent's sessions (one per role): a peer that floods OPENs and never reads its
// socket used to make the server queue one small reply per OPEN, ~190 MB before the byte-based
// hard limit closed it (issue 14). Once the bucket is empty the session is closed with
// RATE_LIMITED (close 4004). DATA, WINDOW and RESET are not counted: they are bounded by flow
// control and answered by nothing. Pure: time comes in as an argument (monotonic milliseconds).
import { FRAME_TYPES } from '../../protocol/index.ts';

export interface BudgetPolicy {
  /** Frames allowed at once (the bucket's size). */
  burst: number;
  /** Frames allowed per second on average (the refill rate). */
  perSecond: number;
}

/** Frame types that count against the budget. */
const COUNTED: ReadonlySet<number> = new Set([FRAME_TYPES.HELLO, FRAME_TYPES.OPEN, FRAME_TYPES.PING, FRAME_TYPES.CONTROL]);

export class TokenBucket {
  readonly #policy: BudgetPolicy;
  #tokens: number;
  #at: number;

  constructor(policy: BudgetPolicy, now: number) {
    this.#policy = policy;
    this.#tokens = policy.burst;
    this.#at = now;
  }

  /** Takes one token; false when none is left. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#at);
    this.#at = Math.max(this.#at, now);
    this.#tokens = Math.min(this.#policy.burst, this.#tokens + (elapsed * this.#policy.perSecond) / 1000);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export interface FrameBudget {
  /** Whether a received frame (its first byte is the type) is within the agent's budget. */
  admit(frame: Uint8Array, now: number): boolean;
  /** The session ended; the agent's bucket goes when its last session does. */
  release(): void;
}

/** The buckets of the agents holding tunnels now. */
export class AgentFrameBudgets {
  readonly #policy: BudgetPolicy;
  readonly #byAgent = new Map<string, { bucket: TokenBucket; sessions: number }>();

  constructor(policy: BudgetPolicy) {
    this.#policy = policy;
  }

  get size(): number {
    return this.#byAgent.size;
  }

  acquire(agentId: string, now: number): FrameBudget {
    let entry = this.#byAgent.get(agentId);
    if (!entry) this.#byAgent.set(agentId, (entry = { bucket: new TokenBucket(this.#policy, now), sessions: 0 }));
    entry.sessions++;
    const held = entry;
    let released = false;
    return {
      admit: (frame, at) => frame.length === 0 || !COUNTED.has(frame[0] as number) || held.bucket.take(at),
      release: () => {
        if (released) return;
        released = true;
        if (--held.sessions === 0 && this.#byAgent.get(agentId) === held) this.#byAgent.delete(agentId);
      },
    };
  }
}
