// The one bounded JSON body reader and JSON answer of the agents' stream endpoints (the fleet
// agent's http:drover-fleet, the node agent's http:drover-plans, the cluster agent's
// http:drover-access): a body over `max` bytes stops being read and throws BodyTooLarge (413),
// one that is not JSON throws SyntaxError (400).
// The bytes are read by the project's one bounded reader (protocol/bounded-read.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLarge, readBounded } from '../../protocol/index.ts';

export { BodyTooLarge };

export async function readJsonBody(req: IncomingMessage, max: number): Promise<unknown> {
  return JSON.parse((await readBounded(req, max)).toString('utf8')) as unknown;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
