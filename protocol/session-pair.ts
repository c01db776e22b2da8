// Two sessions joined by an in-memory transport pair, for tests here and in other packages:
// `const { client, server } = sessionPair(); await bothReady(client, server);`.
import { ManualClock } from './manual-clock.ts';
import { memoryTransportPair, type MemoryTransport } from './memory-transport.ts';
import { Session, type SessionOptions } from './session.ts';
import type { Clock } from './clock.ts';

type SideOptions = Partial<Omit<SessionOptions, 'side' | 'transport' | 'clock'>>;

export interface SessionPair {
  client: Session;
  server: Session;
  /** Carries client → server frames. */
  clientTransport: MemoryTransport;
  /** Carries server → client frames. */
  serverTransport: MemoryTransport;
  clock: Clock;
}

export function sessionPair(opts: { client?: SideOptions; server?: SideOptions; clock?: Clock } = {}): SessionPair {
  const clock = opts.clock ?? new ManualClock();
  const t = memoryTransportPair();
  const client = new Session({ peer: { role: 'cluster', version: '0.0.0-test' }, ...opts.client, side: 'client', transport: t.a, clock });
  const server = new Session({ peer: { role: 'server', version: '0.0.0-test' }, ...opts.server, side: 'server', transport: t.b, clock });
  t.link(client, server);
  return { client, server, clientTransport: t.a, serverTransport: t.b, clock };
}

/** Resolves when the session is open (rejects if it closes first). */
export function whenReady(s: Session): Promise<void> {
  if (s.state === 'open') return Promise.resolve();
  if (s.state === 'closed') return Promise.reject(new Error(`session closed: ${s.closeInfo?.code}`));
  return new Promise((resolve, reject) => {
    s.once('ready', () => resolve());
    s.once('close', (i) => reject(new Error(`session closed: ${i.code} ${i.message}`)));
  });
}

export async function bothReady(a: Session, b: Session): Promise<void> {
  await Promise.all([whenReady(a), whenReady(b)]);
}

/** A transport that records what a session sends and lets a test play the peer frame by frame. */
export class RecordingTransport {
  readonly sent: Uint8Array[] = [];
  closed: { code: number; reason: string } | undefined;
  aborted = false;
  buffered = 0;
  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }
  abort(): void {
    this.aborted = true;
    this.closed ??= { code: 1006, reason: '' };
  }
}

/** One real session whose peer is the test: read `transport.sent`, feed `session.handleFrame`. */
export function rawSession(opts: Partial<Omit<SessionOptions, 'transport' | 'clock'>> & { clock?: Clock } = {}): { session: Session; transport: RecordingTransport; clock: Clock } {
  const clock = opts.clock ?? new ManualClock();
  const transport = new RecordingTransport();
  const session = new Session({ side: 'server', peer: { role: 'server', version: '0.0.0-test' }, ...opts, transport, clock });
  return { session, transport, clock };
}
