// Records audit rows (every API call, every proxied Kubernetes request): hash-chained in the store
// and appended as JSON lines to DIR/audit.log. Rows are queued and written in batches, one flush
// at a time, so the chain's order is the queue's order and a burst of proxied requests costs one
// transaction (one fsync) per batch instead of one per request. close() flushes what is left.
import { appendFileSync, openSync, closeSync } from 'node:fs';
import type { Logger } from 'pino';
import { LIMITS } from '../limits.ts';
import type { AuditFields, AuditRecord, Store } from '../store/store.ts';
import { chain } from './audit-chain.ts';

export class AuditWriter {
  readonly #store: Store;
  readonly #logFile: string;
  readonly #log: Logger;
  #last: { seq: number; hash: string } | undefined;
  #queue: AuditFields[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  private constructor(store: Store, logFile: string, log: Logger, last: AuditRecord | undefined) {
    this.#store = store;
    this.#logFile = logFile;
    this.#log = log;
    this.#last = last && { seq: last.seq, hash: last.hash };
  }

  static async open(store: Store, logFile: string, log: Logger): Promise<AuditWriter> {
    // Created 0600 up front: the log names users and paths.
    closeSync(openSync(logFile, 'a', 0o600));
    return new AuditWriter(store, logFile, log, await store.lastAudit());
  }

  record(fields: AuditFields): void {
    this.#queue.push(fields);
    if (this.#queue.length >= LIMITS.auditBatchMax) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), LIMITS.auditFlushMs);
  }

  /** Writes everything queued so far; resolves when it is committed. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = this.#flushing.then(async () => {
      const batch = this.#queue;
      if (batch.length === 0) return;
      this.#queue = [];
      try {
        // As stored: another replica may have appended first (the store re-chains after its head).
        const rows = await this.#store.appendAudit(chain(this.#last, batch));
        const last = rows.at(-1);
        if (last) this.#last = { seq: last.seq, hash: last.hash };
        appendFileSync(this.#logFile, rows.map((r) => JSON.stringify(jsonLine(r))).join('\n') + '\n');
      } catch (err) {
        // Put them back in front so the chain keeps its order; the next record retries.
        this.#queue = [...batch, ...this.#queue];
        this.#log.error({ err, rows: batch.length }, 'writing audit rows failed');
      }
    });
    return this.#flushing;
  }
}

/** The JSON-lines shape of a row (times as ISO strings). */
export function jsonLine(r: AuditRecord) {
  return {
    seq: r.seq,
    time: new Date(r.at).toISOString(),
    user: r.user,
    idp: r.idp,
    cluster: r.clusterId,
    verb: r.verb,
    path: r.path,
    status: r.status,
    latencyMs: r.latencyMs,
    ...(r.impersonated ? { impersonated: r.impersonated } : {}),
    ...(r.provider ? { provider: r.provider } : {}),
    prevHash: r.prevHash,
    hash: r.hash,
  };
}
