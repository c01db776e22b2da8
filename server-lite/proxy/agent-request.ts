// One small JSON exchange with a cluster agent over a tunnel stream (targets `http:drover-rbac`,
// `http:drover-facts`): the server's own requests, as opposed to the proxied user requests. Bounded
// in time and size; any failure rejects, and callers decide with agent-refusal.ts whether to retry.
import { requestOverStream } from '../../protocol/index.ts';
import { LIMITS } from '../limits.ts';
import type { SessionHandle } from '../tunnel/session-registry.ts';
import { NoStreamsError } from './agent-refusal.ts';

/** Stream targets the cluster agent serves besides `http:kube-apiserver` (docs/api.md). */
export const AGENT_TARGETS = Object.freeze({
  rbac: 'http:drover-rbac',
  facts: 'http:drover-facts',
} as const);

/** Answers larger than this are refused: facts and RBAC results are small documents. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export async function agentJson(
  session: SessionHandle,
  target: string,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  if (!session.openStream) throw new NoStreamsError();
  const stream = session.openStream(target, {});
  const timer = setTimeout(() => stream.destroy(new Error(`no answer from the agent within ${LIMITS.agentRequestTimeoutMs} ms`)), LIMITS.agentRequestTimeoutMs);
  try {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const result = await requestOverStream(stream, {
      method,
      path,
      headers: {
        host: 'drover-agent',
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
      },
      ...(payload === undefined ? {} : { body: payload }),
    });
    if (result.kind !== 'response') throw new Error('the agent answered with an upgrade');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of result.response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) throw new Error('the agent answer is too large');
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the error message.
    }
    return { status: result.response.statusCode ?? 0, json };
  } finally {
    clearTimeout(timer);
    stream.destroy();
  }
}
