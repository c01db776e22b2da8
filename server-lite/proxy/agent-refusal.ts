// Whether a failed exchange with an agent's stream target (agent-request.ts) is worth retrying:
// an agent that refuses the stream (STREAM_REFUSED: it serves no such target, e.g. an older or a
// simulated agent) or answers 404/405/501 will answer the same until it is replaced, so callers
// stop asking until it reconnects; anything else (timeouts, 5xx, a busy apiserver) may pass.
import { TunnelError } from '../../protocol/index.ts';

export type AgentFailure = 'not-served' | 'transient';

/** An agent's HTTP answer other than the one the caller needed. */
export class AgentAnswerError extends Error {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(`agent answered ${status}${detail === '' ? '' : `: ${detail}`}`);
    this.name = 'AgentAnswerError';
    this.status = status;
  }
}

/** Thrown by agentJson when the session has no way to open streams. */
export class NoStreamsError extends Error {
  constructor() {
    super('this session cannot open streams');
    this.name = 'NoStreamsError';
  }
}

const NOT_SERVED_STATUS = new Set([404, 405, 501]);

export function classifyAgentFailure(err: unknown): AgentFailure {
  if (err instanceof TunnelError && err.code === 'STREAM_REFUSED') return 'not-served';
  if (err instanceof AgentAnswerError && NOT_SERVED_STATUS.has(err.status)) return 'not-served';
  if (err instanceof NoStreamsError) return 'not-served';
  return 'transient';
}
