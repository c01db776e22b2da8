// What the benchmark needs from a tunnel, in its own words, so every measurement is written
// once and the protocol's public API (protocol/index.ts) is touched by one file only:
// tunnel/binding.ts. Until that binding can load, the tunnel figures are reported as not yet
// measurable, with the reason, instead of failing the whole run.

import type { RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';

/** The server end: opens streams towards the agent, as the Kubernetes proxy will. */
export interface TunnelServerSide {
  openStream(target: string): Promise<Duplex>;
  /** One HTTP/1.1 POST of `body` to `target` through the protocol's HTTP-over-stream helper;
   *  resolves when the whole response (status 200, same length) has arrived. */
  httpRequest(target: string, path: string, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** How the agent end is told about streams the server opened. */
export type StreamHandler = (target: string, stream: Duplex) => void;

export interface TunnelAgentSide {
  close(): Promise<void>;
}

export interface TunnelBinding {
  /** Human-readable name and version for the report, e.g. "drover tunnel v1.0". */
  readonly name: string;
  /** Server end: listen on 127.0.0.1 port 0; `connected` settles when the agent's session is up. */
  listen(): Promise<{ url: string; connected: Promise<TunnelServerSide>; close(): Promise<void> }>;
  /** Agent end: dial `url`, hand every incoming stream to `onStream`. */
  connect(url: string, onStream: StreamHandler): Promise<TunnelAgentSide>;
  /** Agent end: serve HTTP/1.1 requests arriving on `stream` with `handler` (the protocol's
   *  HTTP-over-stream helper, the counterpart of `httpRequest`). */
  serveHttp(stream: Duplex, handler: RequestListener): void;
}

export type BindingLoad = { readonly ok: true; readonly binding: TunnelBinding } | { readonly ok: false; readonly reason: string };

/** Stream targets the agent child understands (see peer/agent.ts). */
export const TARGETS = {
  /** Consumed in the agent process itself: the tunnel's own cost, nothing else. */
  sink: 'bench:sink',
  /** Produced in the agent process itself, for the download direction. */
  source: 'bench:source',
  /** Served in the agent process by the protocol's stream-fed HTTP server, answering with the
   *  request body: the HTTP-over-stream helper's own cost (the latency budget's figure). */
  httpEcho: 'http:bench-echo',
  /** Never read: the head-of-line experiment's stalled stream. */
  stall: 'bench:stall',
  /** Relayed to a TCP target on loopback, as an agent relays to its kube-apiserver and as the
   *  remotedialer client does: the like-for-like shape for the remotedialer comparison. */
  tcp: (port: number): string => `127.0.0.1:${port}`,
} as const;

/** Loads tunnel/binding.ts lazily, so a protocol/ that is not there yet is a reason, not a crash. */
export async function loadBinding(): Promise<BindingLoad> {
  try {
    const mod = (await import('./binding.ts')) as { binding?: TunnelBinding };
    if (mod.binding === undefined) return { ok: false, reason: 'tunnel/binding.ts exports no binding' };
    return { ok: true, binding: mod.binding };
  } catch (err) {
    return { ok: false, reason: `protocol not loadable yet: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
}
