// The benches' simulated agents: a reusable join token and the server's CA, real registrations,
// and one real TunnelClient per agent whose streams an in-memory endpoint answers (what a bench
// measures is the server, so every agent speaks the real protocol but runs nothing).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fetchCa, type RegisterReply } from '../../agents/common/server-api.ts';
import { transportFor, type Transport } from '../../agents/common/https-client.ts';
import { TunnelClient, type TunnelClientOptions } from '../../agents/common/tunnel-client.ts';
import { silentLogger } from '../../agents/common/logger.ts';
import { createToken } from '../../test/e2e/agent-helpers.ts';
import { registerAgents, type Role } from './register-agents.ts';

export interface SimEnrolment {
  serverUrl: string;
  ca: string;
  token: string;
  transport: Transport;
  labels: Record<string, string>;
  /** Registrations so far, by agent index. */
  ids: RegisterReply[];
}

/** A join token for any number of agents with `labels`, and the server's CA. */
export async function enrol(server: { url: string; dataDir: string }, labels: Record<string, string>): Promise<SimEnrolment> {
  const labelArgs = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  const token = (await createToken(server.dataDir, ['--uses', '0', '--labels', labelArgs])).split('::')[1] ?? '';
  const transport = transportFor(server.url, {});
  const ca = (await fetchCa(server.url, transport)).pem;
  return { serverUrl: server.url, ca, token, transport, labels, ids: [] };
}

const log = silentLogger();

/** A simulated agent's tunnel client with the real agent's backoff; `extra` adds callbacks. */
export function simClient(e: Pick<SimEnrolment, 'serverUrl' | 'ca' | 'transport'>, id: RegisterReply, role: Role, extra: Partial<TunnelClientOptions> = {}): TunnelClient {
  return new TunnelClient({
    serverUrl: e.serverUrl, role, agentId: id.agentId, agentVersion: 'bench', credential: () => id.credential, ca: e.ca, agent: e.transport.agent,
    backoff: { baseMs: 250, capMs: 5_000, stableAfterMs: 30_000, maxExponent: 30 }, random: Math.random, now: Date.now, logger: log,
    facts: async () => ({ hostname: id.agentId, os: 'linux', arch: 'amd64', agentVersion: 'bench' }),
    ...extra,
  });
}

/**
 * Registers agents `clients.length … to-1` (named `prefix-i`) and starts a tunnel for each, whose
 * streams `serve(i)` answers; the new clients are appended to `clients`.
 */
export async function connectSims(e: SimEnrolment, clients: TunnelClient[], to: number, role: Role, prefix: string, serve: (i: number) => NonNullable<TunnelClientOptions['onStream']>): Promise<void> {
  const from = clients.length;
  await registerAgents(e.serverUrl, e.ca, e.token, { from, to, role, prefix, labels: e.labels }, e.ids);
  for (let i = from; i < to; i++) {
    const c = simClient(e, e.ids[i]!, role, { onStream: serve(i) });
    clients.push(c);
    c.start();
  }
}

/** A simulated endpoint's JSON answer. */
export function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The request body parsed as JSON (undefined when empty). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown) : undefined;
}

/** A simulated outbox: rows with increasing seq, read a page at a time, acknowledged up to a seq. */
export class SimOutbox<T> {
  #seq = 0;
  #rows: Array<{ seq: number } & T> = [];
  push(row: T): void {
    this.#rows.push({ seq: ++this.#seq, ...row });
  }
  page(max: number): Array<{ seq: number } & T> {
    return this.#rows.slice(0, max);
  }
  /** Drops the rows up to `seq`; returns how many. */
  ack(seq: number): number {
    const before = this.#rows.length;
    this.#rows = this.#rows.filter((r) => r.seq > seq);
    return before - this.#rows.length;
  }
  clear(): void {
    this.#rows = [];
  }
}
