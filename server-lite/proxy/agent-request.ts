// One small JSON exchange with a cluster agent (targets `http:drover-rbac`, `http:drover-facts`),
// through the one agent call (tunnel/agent-call.ts). Callers decide with agent-refusal.ts whether
// a failure is worth retrying.
import { CLUSTER_AGENT_TARGETS } from '../../protocol/index.ts';
import { LIMITS } from '../limits.ts';
import type { SessionHandle } from '../tunnel/session-registry.ts';
import { agentCall } from '../tunnel/agent-call.ts';
import { NoStreamsError } from './agent-refusal.ts';

/** Stream targets the cluster agent serves besides `http:kube-apiserver` (docs/api.md). */
export const AGENT_TARGETS = CLUSTER_AGENT_TARGETS;

/** Answers larger than this are refused: facts and RBAC results are small documents. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export async function agentJson(
  session: SessionHandle,
  target: string,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const open = session.openStream;
  if (!open) throw new NoStreamsError();
  return agentCall((t, m) => open(t, m), target, method, path, body, { timeoutMs: LIMITS.agentRequestTimeoutMs, maxAnswerBytes: MAX_ANSWER_BYTES });
}
