// Throughput on the opening side, in both directions: upload into a sink or download from a
// source (lib/sink.ts), through a Duplex (a TCP socket or a tunnel stream, honouring write()'s
// return value and 'drain') or a raw ws WebSocket (send callbacks, a bounded number in flight).

import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { encodeHeader, filler } from './sink.ts';

/** Moves `total` bytes through an open Duplex, one direction or the other. */
export type Transfer = (stream: Duplex, total: number, chunkBytes: number) => Promise<void>;

export interface ThroughputResult {
  readonly bytes: number;
  readonly streams: number;
  readonly ms: number;
  readonly mibPerSecond: number;
  /** CPU of both processes per GiB moved (median round); absent where not measured. */
  readonly cpuMsPerGiB?: number;
}

/** Writes the header and `total` bytes, then resolves when the sink's ACK arrives. */
export async function sendThroughDuplex(stream: Duplex, total: number, chunkBytes: number): Promise<void> {
  const chunk = filler(chunkBytes);
  const acked = new Promise<void>((resolve, reject) => {
    stream.once('data', () => resolve());
    stream.once('error', reject);
    stream.once('close', () => reject(new Error('stream closed before the sink acknowledged')));
  });
  acked.catch(() => undefined);
  stream.write(encodeHeader(total));
  for (let left = total; left > 0; left -= chunkBytes) {
    const ok = stream.write(left >= chunkBytes ? chunk : chunk.subarray(0, left));
    if (!ok) await Promise.race([once(stream, 'drain'), acked]);
  }
  await acked;
}

/** Asks a source for `total` bytes and resolves when the last one has arrived. */
export async function receiveThroughDuplex(stream: Duplex, total: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    stream.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= total) resolve();
    });
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`stream closed after ${got} of ${total} bytes`)));
    stream.write(encodeHeader(total));
  });
}

/** Largest number of unacknowledged ws.send calls: enough to keep the socket busy, bounded. */
const WS_IN_FLIGHT = 16;

/** Sends the transfer as binary messages of `chunkBytes`; resolves on the sink's ACK. */
export async function sendThroughWebSocket(url: string, total: number, chunkBytes: number): Promise<number> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await once(ws, 'open');
  const chunk = filler(chunkBytes);
  const start = performance.now();
  const acked = once(ws, 'message');
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const sent = (): void => {
    inFlight--;
    wake?.();
  };
  ws.send(encodeHeader(total), sent);
  inFlight++;
  for (let left = total; left > 0; left -= chunkBytes) {
    while (inFlight >= WS_IN_FLIGHT) await new Promise<void>((r) => (wake = r));
    inFlight++;
    ws.send(left >= chunkBytes ? chunk : chunk.subarray(0, left), sent);
  }
  await acked;
  const ms = performance.now() - start;
  ws.close();
  return ms;
}

/** Asks a WebSocket source for `total` bytes; resolves with the ms until the last one arrived. */
export async function receiveThroughWebSocket(url: string, total: number): Promise<number> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await once(ws, 'open');
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    let got = 0;
    ws.on('message', (data: Buffer) => {
      got += data.length;
      if (got >= total) resolve();
    });
    ws.once('error', reject);
    ws.send(encodeHeader(total));
  });
  const ms = performance.now() - start;
  ws.close();
  return ms;
}

/** Opens `streams` Duplexes with `open`, moves total/streams through each at once; returns ms
 *  (opening included, as in the Go program). */
export async function timeConcurrent(
  streams: number,
  total: number,
  chunkBytes: number,
  open: () => Promise<Duplex>,
  transfer: Transfer,
): Promise<number> {
  const per = Math.floor(total / streams);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async () => {
      const s = await open();
      try {
        await transfer(s, per, chunkBytes);
      } finally {
        s.destroy();
      }
    }),
  );
  return performance.now() - start;
}
