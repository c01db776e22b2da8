// Rotates the device's credential while a tunnel is up: when the server hints (101 header) or
// the credential is past half its lifetime. The roles of one device share one credential and may
// run in separate processes, so a SQLite lease lets only one of them rotate at a time; the others
// pick the new credential up from the store on their next dial.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { describeError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { rotationDue } from './rotation.ts';
import { rotate } from './server-api.ts';
import type { Transport } from './https-client.ts';
import type { AgentStore } from './store.ts';

export class CredentialRotator {
  private busy = false;
  private recovery: Promise<boolean> | undefined;
  private readonly holder = `${os.hostname()}:${process.pid}`;
  private readonly store: AgentStore;
  private readonly transport: Transport;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(store: AgentStore, transport: Transport, now: () => number, log: Logger) {
    this.store = store;
    this.transport = transport;
    this.now = now;
    this.log = log;
  }

  /** Rotates if due (or hinted); resolves true when a new credential was stored. Never throws. */
  async maybeRotate(hinted: boolean): Promise<boolean> {
    if (this.busy) return false;
    const id = this.store.getIdentity();
    if (!id) return false;
    if (!hinted && !rotationDue(id.credentialIssuedAt, id.credentialExpiresAt, this.now(), LIMITS.rotateAtLifetimeFraction)) return false;
    if (!this.store.tryTakeRotationLease(this.holder, this.now(), LIMITS.rotationLeaseMs)) return false;
    this.busy = true;
    try {
      // Re-read under the lease: another process may have rotated a moment ago.
      const fresh = this.store.getIdentity();
      if (!fresh) return false;
      if (fresh.credential !== id.credential) return false;
      const reply = await rotate(fresh.serverUrl, fresh.caPem, this.transport, fresh.credential);
      // Committed before anything else: the server already switched, the old one works once more.
      this.store.saveCredential(reply.credential, new Date(this.now()).toISOString(), reply.credentialExpiresAt ?? null);
      this.log.info({ agentId: fresh.agentId, expiresAt: reply.credentialExpiresAt ?? null, hinted }, 'credential rotated');
      return true;
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'credential rotation failed; will retry on the next connect');
      return false;
    } finally {
      this.busy = false;
      this.store.releaseRotationLease(this.holder);
    }
  }

  /**
   * Re-enrolment after the server refused `refused` as rotated out: the rotate endpoint accepts
   * the previous credential once. Another role's process may already have done it, in which case
   * the store holds a newer credential and we just use that.
   */
  recover(refused: string): Promise<boolean> {
    // The roles of one process are refused together; they share one re-enrolment.
    this.recovery ??= this.recoverOnce(refused).finally(() => {
      this.recovery = undefined;
    });
    return this.recovery;
  }

  private async recoverOnce(refused: string): Promise<boolean> {
    for (let i = 0; i < LIMITS.recoverLeaseAttempts; i++) {
      if (this.store.getIdentity()?.credential !== refused) return true;
      if (this.store.tryTakeRotationLease(this.holder, this.now(), LIMITS.rotationLeaseMs)) break;
      // Another role's process holds the lease and is probably recovering right now.
      await sleep(LIMITS.recoverLeaseWaitMs);
      if (i === LIMITS.recoverLeaseAttempts - 1) return this.store.getIdentity()?.credential !== refused;
    }
    try {
      const id = this.store.getIdentity();
      if (!id) return false;
      if (id.credential !== refused) return true;
      const reply = await rotate(id.serverUrl, id.caPem, this.transport, refused);
      // Committed at once: the rotated-out credential is now spent for good.
      this.store.saveCredential(reply.credential, new Date(this.now()).toISOString(), reply.credentialExpiresAt ?? null);
      this.log.warn({ agentId: id.agentId }, 'recovered from an unsaved rotation: re-enrolled with the previous credential');
      return true;
    } catch (err) {
      this.log.error({ err: describeError(err) }, 're-enrolment with the previous credential failed');
      return false;
    } finally {
      this.store.releaseRotationLease(this.holder);
    }
  }
}
