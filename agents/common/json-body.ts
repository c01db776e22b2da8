// The one bounded JSON body reader and JSON answer of the agents' stream endpoints (the fleet
// agent's http:drover-fleet, the node agent's http:drover-plans, the cluster agent's
// http:drover-access): a body over `max` bytes stops being read and throws BodyTooLarge (413),
// one that is not JSON throws SyntaxError (400).
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLarge extends Error {
  constructor(max: number) {
    super(`request body over ${max} bytes`);
    this.name = 'BodyTooLarge';
  }
}

export async function readJsonBody(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new BodyTooLarge(max);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
