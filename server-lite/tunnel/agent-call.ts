// The server's own requests to an agent (as opposed to proxied user requests): one HTTP exchange
// over a fresh tunnel stream, bounded in time and answer size, the answer parsed as JSON when it is
// JSON. Any failure rejects; callers decide when to try again. Used for every agent stream target
// the server calls (`http:drover-rbac`, `http:drover-facts`, `http:drover-fleet`).
import { BodyTooLarge, readBounded, requestOverStream, type TunnelStream } from '../../protocol/index.ts';

export interface AgentCallOptions {
  timeoutMs: number;
  maxAnswerBytes: number;
  /** Stream OPEN metadata. */
  metadata?: Record<string, string>;
}

export interface AgentAnswer {
  status: number;
  /** The parsed JSON answer, or its text when it is not JSON. */
  json: unknown;
}

/** `body`: a Buffer is sent as it is (a body serialised once for many agents), anything else as JSON. */
export async function agentCall(
  openStream: (target: string, metadata: Record<string, string>) => TunnelStream,
  target: string,
  method: string,
  path: string,
  body: unknown,
  opts: AgentCallOptions,
): Promise<AgentAnswer> {
  const stream = openStream(target, opts.metadata ?? {});
  const timer = setTimeout(() => stream.destroy(new Error(`no answer from the agent (${target}) within ${opts.timeoutMs} ms`)), opts.timeoutMs);
  try {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const result = await requestOverStream(stream, {
      method,
      path,
      headers: { host: 'drover-agent', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }) },
      ...(payload === undefined ? {} : { body: payload }),
    });
    if (result.kind !== 'response') throw new Error(`the agent (${target}) answered with an upgrade`);
    const answer = await readBounded(result.response, opts.maxAnswerBytes).catch((err: unknown) => {
      throw err instanceof BodyTooLarge ? new Error(`the agent's answer (${target}) is larger than ${opts.maxAnswerBytes} bytes`) : err;
    });
    const text = answer.toString('utf8');
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
