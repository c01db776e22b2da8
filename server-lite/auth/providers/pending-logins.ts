// OIDC logins in progress (pure but for the injected clock and randomness): `start` makes the
// state, the nonce and the PKCE verifier (RFC 7636 S256) and keeps them until the browser comes
// back; `take` hands them out once (a replayed state is unknown), only for the provider and
// redirect URI they were made for, and only within PENDING_TTL_MS. Bounded: the oldest are
// dropped first when MAX_PENDING are waiting. In memory: a login that starts on one replica of an
// HA server must finish on the same one (docs/identity.md).
import { createHash } from 'node:crypto';
import type { RandomBytes } from '../../secrets.ts';

export const PENDING_TTL_MS = 10 * 60_000;
export const MAX_PENDING = 1000;

export interface PendingLogin {
  provider: string;
  redirectUri: string;
  state: string;
  nonce: string;
  verifier: string;
  createdAt: number;
}

export const codeChallenge = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

export class PendingLogins {
  readonly #byState = new Map<string, PendingLogin>();

  start(provider: string, redirectUri: string, now: number, random: RandomBytes): PendingLogin {
    this.#sweep(now);
    while (this.#byState.size >= MAX_PENDING) {
      const oldest = this.#byState.keys().next().value;
      if (oldest === undefined) break;
      this.#byState.delete(oldest);
    }
    const p: PendingLogin = {
      provider,
      redirectUri,
      state: random(24).toString('base64url'),
      nonce: random(24).toString('base64url'),
      verifier: random(32).toString('base64url'),
      createdAt: now,
    };
    this.#byState.set(p.state, p);
    return p;
  }

  /** The pending login for this state, removed; undefined if unknown, used, expired or for another provider. */
  take(provider: string, state: string, now: number): PendingLogin | undefined {
    const p = this.#byState.get(state);
    if (!p) return undefined;
    this.#byState.delete(state);
    if (p.provider !== provider || now - p.createdAt > PENDING_TTL_MS) return undefined;
    return p;
  }

  get size(): number {
    return this.#byState.size;
  }

  #sweep(now: number): void {
    for (const [state, p] of this.#byState) {
      if (now - p.createdAt <= PENDING_TTL_MS) break; // insertion order is age order
      this.#byState.delete(state);
    }
  }
}
