// The server's TLS identity while it runs (issue 18): loads it at start (completing a CA switch that
// fell due while the server was down), renews the serving certificate before it expires, switches
// to the new CA when a rotation's overlap ends, adds names when the server URL changes — each time
// swapping the new certificate into the listening server (`setSecureContext`: new handshakes get it,
// open tunnels stay) and updating `ctx.tls`, so join tokens and `GET /v1/ca` follow. Timers run on
// the injected clock, so tests drive renewal and switches with a ManualClock (decision 0953).
import type { Server } from 'node:https';
import type { Logger } from 'pino';
import type { Clock as TimerClock, TimerHandle } from '../../protocol/index.ts';
import { completeRotation, readRotation, startRotation, type RotationState } from './ca-rotation.ts';
import { DEFAULT_SERVING_CERT_POLICY, ensureTlsMaterial, type ServingCertPolicy, type TlsMaterial } from './tls-material.ts';

/** How often the serving certificate's expiry is checked (it is also checked at every change). */
export const RENEWAL_CHECK_MS = 60 * 60 * 1000;

export interface TlsServiceOptions {
  dataDir: string;
  sans: readonly string[];
  now: () => number;
  timers: TimerClock;
  log: Logger;
  policy?: ServingCertPolicy | undefined;
  /** Told after every change (the server record, ctx.tls). */
  onChange?: (tls: TlsMaterial) => void;
}

export class TlsService {
  readonly #o: TlsServiceOptions;
  readonly #sans: Set<string>;
  #material: TlsMaterial;
  #server: Server | undefined;
  #renewTimer: TimerHandle | undefined;
  #switchTimer: TimerHandle | undefined;
  #stopped = false;
  /** Serving certificates swapped in while running (tests, logs). */
  swaps = 0;

  constructor(o: TlsServiceOptions) {
    this.#o = o;
    this.#sans = new Set(o.sans);
    const due = readRotation(o.dataDir);
    if (due && due.switchAt <= o.now()) completeRotation(o.dataDir);
    this.#material = this.#load();
  }

  get material(): TlsMaterial {
    return this.#material;
  }

  get sans(): string[] {
    return [...this.#sans];
  }

  rotation(): RotationState | undefined {
    return readRotation(this.#o.dataDir);
  }

  /** Starts serving through `server` and arms the timers. */
  attach(server: Server): void {
    this.#server = server;
    this.#armRenewal();
    this.#armSwitch();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#renewTimer !== undefined) this.#o.timers.clearTimeout(this.#renewTimer);
    if (this.#switchTimer !== undefined) this.#o.timers.clearTimeout(this.#switchTimer);
  }

  /** `drover server rotate-ca`: the new CA now, the switch after `overlapMs`. */
  startRotation(overlapMs: number): RotationState {
    const state = startRotation(this.#o.dataDir, this.#o.now(), overlapMs);
    this.#o.log.info({ nextCaHash: state.nextCaHash, switchAt: new Date(state.switchAt).toISOString() }, 'server CA rotation started');
    this.#armSwitch();
    return state;
  }

  /** Names the serving certificate must carry from now on (a new server URL's host). */
  addNames(names: readonly string[]): void {
    const before = this.#sans.size;
    for (const n of names) this.#sans.add(n);
    if (this.#sans.size !== before) this.#refresh('new names');
  }

  /** Re-reads and re-issues as needed; swaps the certificate in when it changed. */
  #refresh(why: string): void {
    const next = this.#load();
    if (next.certPem === this.#material.certPem && next.caHash === this.#material.caHash) return;
    this.#material = next;
    this.#server?.setSecureContext({ key: next.keyPem, cert: next.certPem, minVersion: 'TLSv1.2' });
    this.swaps++;
    this.#o.log.info({ why, caHash: next.caHash, certNotAfter: new Date(next.certNotAfter).toISOString() }, 'serving certificate replaced');
    this.#o.onChange?.(next);
  }

  #load(): TlsMaterial {
    return ensureTlsMaterial(this.#o.dataDir, [...this.#sans], new Date(this.#o.now()), this.#o.policy ?? DEFAULT_SERVING_CERT_POLICY);
  }

  #armRenewal(): void {
    if (this.#stopped) return;
    if (this.#renewTimer !== undefined) this.#o.timers.clearTimeout(this.#renewTimer);
    const policy = this.#o.policy ?? DEFAULT_SERVING_CERT_POLICY;
    const renewAt = this.#material.certNotAfter - policy.renewBeforeMs;
    const delay = Math.max(0, Math.min(RENEWAL_CHECK_MS, renewAt - this.#o.now()));
    this.#renewTimer = this.#o.timers.setTimeout(() => {
      try {
        this.#refresh('renewal before expiry');
      } catch (err) {
        this.#o.log.error({ err: (err as Error).message }, 'serving certificate renewal failed; retrying');
      }
      this.#armRenewal();
    }, delay);
  }

  #armSwitch(): void {
    if (this.#stopped) return;
    if (this.#switchTimer !== undefined) this.#o.timers.clearTimeout(this.#switchTimer);
    const state = readRotation(this.#o.dataDir);
    if (!state) return;
    this.#switchTimer = this.#o.timers.setTimeout(() => {
      try {
        completeRotation(this.#o.dataDir);
        this.#refresh('CA rotation: switched to the new CA');
        this.#armRenewal();
      } catch (err) {
        this.#o.log.error({ err: (err as Error).message }, 'CA switch failed; retrying');
        this.#armSwitch();
      }
    }, Math.max(0, state.switchAt - this.#o.now()));
  }
}
