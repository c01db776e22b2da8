// A TCP proxy on loopback that counts the bytes crossing it in each direction, with the time of
// every chunk read: what a tunnel costs on the wire (TLS records included; IP/TCP headers are not
// seen from user space and are estimated by the caller from the chunk counts).
import net from 'node:net';

export interface WireSample {
  /** performance.now() of the read. */
  at: number;
  /** 'up': client → server (agent → server); 'down': server → client. */
  dir: 'up' | 'down';
  bytes: number;
}

export interface CountingProxy {
  port: number;
  samples: WireSample[];
  /** Forget what was counted so far (after warm-up). */
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  const samples: WireSample[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.on('data', (c: Buffer) => { samples.push({ at: performance.now(), dir: 'up', bytes: c.length }); upstream.write(c); });
    upstream.on('data', (c: Buffer) => { samples.push({ at: performance.now(), dir: 'down', bytes: c.length }); client.write(c); });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as net.AddressInfo;
  return {
    port: a.port,
    samples,
    reset: () => { samples.length = 0; },
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/** Bytes per direction, chunks, and bit/s over `ms`; `headerBytes` per chunk estimates IP+TCP
 *  (20 + 20 + 12 timestamp option) and one ACK segment per chunk the other way. */
export function summarise(samples: readonly WireSample[], ms: number, headerBytes = 52): { up: number; down: number; chunks: number; payloadBps: number; wireBps: number } {
  let up = 0;
  let down = 0;
  for (const s of samples) {
    if (s.dir === 'up') up += s.bytes;
    else down += s.bytes;
  }
  const payload = up + down;
  const wire = payload + samples.length * headerBytes * 2;
  return { up, down, chunks: samples.length, payloadBps: (payload * 8 * 1000) / ms, wireBps: (wire * 8 * 1000) / ms };
}

/** Chunks grouped into bursts (reads within `gapMs` of each other), for attributing traffic to its period. */
export function bursts(samples: readonly WireSample[], gapMs = 200): { at: number; up: number; down: number }[] {
  const out: { at: number; up: number; down: number }[] = [];
  for (const s of [...samples].sort((a, b) => a.at - b.at)) {
    const last = out.at(-1);
    const b = last !== undefined && s.at - last.at - 0 <= gapMs ? last : undefined;
    if (b) {
      b[s.dir] += s.bytes;
    } else {
      out.push({ at: s.at, up: s.dir === 'up' ? s.bytes : 0, down: s.dir === 'down' ? s.bytes : 0 });
    }
  }
  return out;
}
