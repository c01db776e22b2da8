// The agent's side of `http:drover-upgrade` (issue 16, protocol/contracts/agent-upgrade.ts): takes
// an order only when its signed sums verify with the release key built into this executable,
// appends the executable's bytes at the offset it already holds (a dropped tunnel resumes), checks
// the whole file's SHA-256 against the signed one, then swaps (swap.ts) and restarts. Anything that
// does not verify is refused with a clear message and the running executable is left untouched.
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Logger } from 'pino';
import { createStreamHttpServer, type TunnelStream } from '../../protocol/index.ts';
import { UPGRADE_ARTIFACT_PATH, UPGRADE_PATH, upgradeOrderSchema, type UpgradeStateWire } from '../../protocol/contracts/agent-upgrade.ts';
import { UpgradeError } from '../../protocol/release-errors.ts';
import { verifiedVersion, verifyRelease } from '../../protocol/release-verify.ts';
import { readRecord, writeRecord, type UpgradeRecord } from './upgrade-state.ts';
import { stagedPath, swapIn } from './swap.ts';

/** Where a gzip-encoded download collects before it is decompressed into `<exe>.new`. */
export const encodedPath = (exe: string): string => `${stagedPath(exe)}.gz`;

export interface UpgradeTargetDeps {
  dataDir: string;
  version: string;
  arch: string;
  /** The executable to replace; undefined when run from a checkout (upgrades refused). */
  exe: string | undefined;
  publicKey: () => string | undefined;
  now: () => number;
  log: Logger;
  healthMs: number;
  /** Ends this process so the unit restarts it on the new executable. */
  restart: () => void;
  /** Roles of the device's processes started from `exe` (all must connect after the swap). */
  rolesOnDevice?: (exe: string) => string[];
}

const MAX_ORDER_BYTES = 96 * 1024;

export function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  return pipeline(fs.createReadStream(file), async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) h.update(c);
  }).then(() => h.digest('hex'));
}

export class UpgradeTarget {
  readonly #d: UpgradeTargetDeps;
  readonly #http = createStreamHttpServer({ request: (req, res) => void this.#handle(req, res).catch(() => res.destroy()) });
  #runningSha: Promise<string | null> | undefined;
  #busy = false;

  constructor(deps: UpgradeTargetDeps) {
    this.#d = deps;
  }

  serve(stream: TunnelStream): void {
    stream.on('error', () => {});
    this.#http.serve(stream);
  }

  /** The file the download goes into: `<exe>.new`, or `<exe>.new.gz` for a gzip-encoded one. */
  #download(rec: UpgradeRecord): string | undefined {
    const exe = this.#d.exe;
    return exe ? (rec.encoding === 'gzip' ? encodedPath(exe) : stagedPath(exe)) : undefined;
  }

  #staged(rec: UpgradeRecord = readRecord(this.#d.dataDir)): number {
    const file = this.#download(rec);
    return file ? (fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) : 0;
  }

  #removeStaged(): void {
    if (!this.#d.exe) return;
    fs.rmSync(stagedPath(this.#d.exe), { force: true });
    fs.rmSync(encodedPath(this.#d.exe), { force: true });
  }

  async state(): Promise<UpgradeStateWire> {
    const rec = readRecord(this.#d.dataDir);
    this.#runningSha ??= this.#d.exe ? fileSha256(this.#d.exe).catch(() => null) : Promise.resolve(null);
    return {
      phase: rec.phase === 'Swapping' ? 'Restarting' : rec.phase,
      version: rec.version,
      sha256: rec.sha256,
      bytes: rec.phase === 'Downloading' ? this.#staged(rec) : rec.phase === 'Idle' ? 0 : (rec.encoding === 'gzip' ? (rec.encodedSize ?? rec.size) : rec.size),
      total: rec.encoding === 'gzip' ? (rec.encodedSize ?? rec.size) : rec.size,
      message: rec.message,
      runningSha256: await this.#runningSha,
      runningVersion: this.#d.version,
      arch: this.#d.arch,
      encodings: ['gzip'],
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === UPGRADE_PATH) return send(200, await this.state());
      if (req.method === 'POST' && path === UPGRADE_PATH) return send(200, await this.#order(req));
      if (req.method === 'PUT' && path === UPGRADE_ARTIFACT_PATH) {
        const offset = Number(new URL(req.url ?? '', 'http://agent').searchParams.get('offset'));
        const answer = await this.#artifact(req, offset);
        res.once('finish', () => this.#maybeSwap());
        return send(200, answer);
      }
      req.resume();
      send(404, { error: { code: 'NOT_FOUND', message: `${req.method ?? ''} ${path ?? ''} is not an upgrade call` } });
    } catch (err) {
      req.resume();
      const code = err instanceof UpgradeError ? err.code : 'INTERNAL';
      send(code === 'UPGRADE_BUSY' ? 409 : err instanceof UpgradeError ? 422 : 500, { error: { code, message: (err as Error).message } });
    }
  }

  #fail(rec: Partial<UpgradeRecord>, err: UpgradeError): UpgradeRecord {
    this.#d.log.warn({ code: err.code, version: rec.version }, `upgrade refused: ${err.message}`);
    this.#removeStaged();
    return writeRecord(this.#d.dataDir, { ...readRecord(this.#d.dataDir), ...rec, phase: 'Failed', message: `${err.code}: ${err.message}`, updatedAt: this.#d.now() });
  }

  async #order(req: IncomingMessage): Promise<UpgradeStateWire> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_ORDER_BYTES) throw new UpgradeError('SUMS_INVALID', `the order is larger than ${MAX_ORDER_BYTES} bytes`);
      chunks.push(c);
    }
    const order = upgradeOrderSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    const rec = readRecord(this.#d.dataDir);
    if (this.#busy || rec.phase === 'Swapping' || rec.phase === 'Restarting' || rec.phase === 'Staged') throw new UpgradeError('UPGRADE_BUSY', `an upgrade to ${rec.version ?? '?'} is ${rec.phase}`);
    const exe = this.#d.exe;
    if (!exe) {
      this.#fail({ version: order.version, sha256: null }, new UpgradeError('NOT_UPGRADABLE', 'this agent runs from a checkout, not the drover executable'));
      return this.state();
    }
    const key = this.#d.publicKey();
    let sha: string;
    try {
      if (!key) throw new UpgradeError('SIGNATURE_INVALID', 'this drover has no release public key built in');
      const v = verifyRelease({ sumsText: order.sums, signature: order.signature, publicKeyPem: key, arch: this.#d.arch });
      verifiedVersion(v.sums, Buffer.from(`${order.version}\n`));
      sha = v.sha256;
    } catch (err) {
      if (!(err instanceof UpgradeError)) throw err;
      this.#fail({ version: order.version, sha256: null, size: order.size, exe }, err);
      return this.state();
    }
    const encoding = order.encoding === 'gzip' && order.encodedSize !== undefined ? 'gzip' : null;
    // The same release the same way again: keep what is staged and go on from there.
    const resume = rec.sha256 === sha && rec.phase === 'Downloading' && (rec.encoding ?? null) === encoding && (encoding === null || rec.encodedSize === order.encodedSize);
    const next: UpgradeRecord = { ...rec, phase: 'Downloading', version: order.version, sha256: sha, size: order.size, encoding, encodedSize: encoding ? (order.encodedSize ?? 0) : 0, exe, starts: 0, prestarts: 0, deadline: null, message: `downloading ${order.version}`, updatedAt: this.#d.now() };
    if (!resume) {
      this.#removeStaged();
      fs.writeFileSync(this.#download(next) ?? '', new Uint8Array(0), { mode: 0o700 });
    }
    writeRecord(this.#d.dataDir, next);
    this.#d.log.info({ version: order.version, resume, from: this.#staged(next), encoding }, 'upgrade: order verified, downloading');
    return this.state();
  }

  async #artifact(req: IncomingMessage, offset: number): Promise<UpgradeStateWire> {
    const rec = readRecord(this.#d.dataDir);
    const exe = this.#d.exe;
    if (rec.phase !== 'Downloading' || !exe || !rec.sha256) {
      req.resume();
      return this.state();
    }
    const staged = stagedPath(exe);
    const download = this.#download(rec) ?? staged;
    const have = this.#staged(rec);
    const expected = rec.encoding === 'gzip' ? (rec.encodedSize ?? 0) : rec.size;
    if (offset !== have) {
      req.resume();
      return this.state();
    }
    this.#busy = true;
    try {
      let total = have;
      const bound = new Transform({
        transform(chunk: Buffer, _e, cb) {
          total += chunk.length;
          cb(total > expected ? new UpgradeError('CHECKSUM_MISMATCH', `more bytes than the announced ${expected}`) : null, chunk);
        },
      });
      try {
        await pipeline(req, bound, fs.createWriteStream(download, { flags: 'a' }));
      } catch (err) {
        if (err instanceof UpgradeError) {
          this.#fail({}, err);
          return this.state();
        }
        // The tunnel dropped mid-way: what arrived stays staged; the server resumes from there.
        return this.state();
      }
      if (total < expected) return this.state();
      if (rec.encoding === 'gzip') {
        // Complete: decompress into `<exe>.new`, never more than the signed size (a gzip bomb
        // stops there); the SHA-256 below is of the decompressed executable, as signed.
        let out = 0;
        const cap = new Transform({
          transform(chunk: Buffer, _e, cb) {
            out += chunk.length;
            cb(out > rec.size ? new UpgradeError('CHECKSUM_MISMATCH', `the download decompresses to more than the announced ${rec.size} bytes`) : null, chunk);
          },
        });
        try {
          await pipeline(fs.createReadStream(download), createGunzip(), cap, fs.createWriteStream(staged, { mode: 0o700 }));
        } catch (err) {
          this.#fail({}, err instanceof UpgradeError ? err : new UpgradeError('CHECKSUM_MISMATCH', `the download is not valid gzip (${(err as Error).message}); nothing was installed`));
          return this.state();
        }
        fs.rmSync(download, { force: true });
      }
      const actual = await fileSha256(staged);
      if (actual !== rec.sha256) {
        this.#fail({}, new UpgradeError('CHECKSUM_MISMATCH', `the downloaded ${rec.version ?? ''} has SHA-256 ${actual.slice(0, 16)}…, not the signed ${rec.sha256.slice(0, 16)}…; nothing was installed`));
        return this.state();
      }
      fs.chmodSync(staged, 0o755);
      writeRecord(this.#d.dataDir, { ...rec, phase: 'Staged', message: `${rec.version ?? ''} verified and staged beside ${exe}`, updatedAt: this.#d.now() });
      return this.state();
    } finally {
      this.#busy = false;
    }
  }

  /** After the answer went out: a Staged upgrade is swapped in and the process restarts. */
  #maybeSwap(): void {
    const rec = readRecord(this.#d.dataDir);
    if (rec.phase !== 'Staged' || this.#busy) return;
    this.#busy = true;
    try {
      const exe = rec.exe ?? this.#d.exe ?? '';
      swapIn(this.#d.dataDir, rec, this.#d.now(), this.#d.healthMs, this.#d.rolesOnDevice?.(exe) ?? []);
      this.#d.log.info({ version: rec.version }, 'upgrade: new executable in place; restarting');
      this.#d.restart();
    } catch (err) {
      this.#d.log.error({ err: (err as Error).message }, 'upgrade: swap failed');
      this.#fail({}, new UpgradeError('SWAP_FAILED', (err as Error).message));
      this.#busy = false;
    }
  }
}
