// Releases on the server (issue 16): `drover release import` uploads each executable with the
// release's signed sha256sums and signature; the server checks both with its own built-in release
// key before anything is stored (a file that does not verify leaves no trace), keeps the bytes in
// DATA_DIR/releases/<version>/drover-linux-<arch> and a row in `releases`.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { checkSha, verifiedVersion, verifyRelease } from '../../protocol/release-verify.ts';
import { UpgradeError } from '../../protocol/release-errors.ts';
import { ReleaseApiError } from './errors.ts';
import type { ReleaseRecord, UpgradeRecords } from './upgrade-records.ts';

/** An executable is ~120 MiB raw; anything far beyond is not one of ours. */
export const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;
const ARTIFACT = /^drover-linux-(amd64|arm64)$/;
const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]{1,64})?$/;

export interface ReleaseView {
  version: string;
  arch: string;
  artifact: string;
  sha256: string;
  size: number;
  importedAt: string;
}

export const releaseView = (r: ReleaseRecord): ReleaseView => ({ version: r.version, arch: r.arch, artifact: r.artifact, sha256: r.sha256, size: r.size, importedAt: new Date(r.importedAt).toISOString() });

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const c of fs.createReadStream(file) as AsyncIterable<Buffer>) hash.update(c);
  return hash.digest('hex');
}

export class ReleaseService {
  readonly #dataDir: string;
  readonly #records: UpgradeRecords;
  readonly #publicKey: () => string | undefined;
  readonly #now: () => number;
  /** Fetches from the database in flight, by file: agents upgrading at once share one (and one temporary file). */
  readonly #fetching = new Map<string, Promise<string>>();
  /**
   * Local files whose bytes this process has checked, with the SHA-256 they had: a copy left from a
   * release since deleted and imported again under the same version (other bytes, maybe the same
   * size) is hashed once and fetched again instead of served.
   */
  readonly #checked = new Map<string, string>();

  constructor(deps: { dataDir: string; records: UpgradeRecords; publicKey: () => string | undefined; now: () => number }) {
    this.#dataDir = deps.dataDir;
    this.#records = deps.records;
    this.#publicKey = deps.publicKey;
    this.#now = deps.now;
  }

  get records(): UpgradeRecords {
    return this.#records;
  }

  async list(): Promise<ReleaseView[]> {
    return (await this.#records.releases()).map(releaseView);
  }

  /** Absolute path of a stored executable. */
  fileOf(r: ReleaseRecord): string {
    return path.join(this.#dataDir, r.file);
  }

  /**
   * The executable as a local file: this data dir's copy, or (a replica that did not receive the
   * import) the bytes the shared store keeps, written here once and checked against the signed
   * SHA-256 before use.
   */
  async localFile(r: ReleaseRecord): Promise<string> {
    const file = this.fileOf(r);
    const readArtifact = this.#records.readArtifact?.bind(this.#records);
    // Without a shared store there is nothing else to serve: the agent verifies the bytes anyway.
    if (!readArtifact || this.#checked.get(file) === r.sha256) return file;
    // One check or fetch per file at a time, however many agents ask at once.
    let p = this.#fetching.get(file);
    if (!p) {
      p = (async () => {
        if (fs.statSync(file, { throwIfNoEntry: false })?.size === r.size && (await this.#hash(file)) === r.sha256) return file;
        return this.#fetch(r, file, readArtifact);
      })().finally(() => this.#fetching.delete(file));
      this.#fetching.set(file, p);
    }
    return p;
  }

  async #hash(file: string): Promise<string> {
    const sha = await sha256File(file);
    this.#checked.set(file, sha);
    return sha;
  }

  /**
   * `drover release delete VERSION`: every architecture of it, rows, bytes in the shared store and
   * this data dir's files. Refused while an upgrade to it is running or halted (its agents would
   * fail their download); agents already running it keep their executable and their rollback copy.
   */
  async delete(version: string): Promise<{ version: string; removed: number }> {
    if (!VERSION.test(version)) throw new ReleaseApiError('RELEASE_INVALID', `${version}: not a semantic version`);
    const active = await this.#records.activeRollout();
    if (active?.version === version) throw new ReleaseApiError('RELEASE_IN_USE', `the agent upgrade to ${version} is ${active.state}: start an upgrade to another version first (drover upgrade agents --version …)`);
    const removed = await this.#records.deleteVersion(version);
    if (removed === 0) throw new ReleaseApiError('RELEASE_NOT_FOUND', `no release ${version} is imported (see drover release list)`);
    const dir = path.join(this.#dataDir, 'releases', version);
    for (const f of this.#checked.keys()) if (f.startsWith(`${dir}${path.sep}`)) this.#checked.delete(f);
    fs.rmSync(dir, { recursive: true, force: true });
    return { version, removed };
  }

  async #fetch(r: ReleaseRecord, file: string, readArtifact: NonNullable<UpgradeRecords['readArtifact']>): Promise<string> {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.fetch`;
    try {
      if (!(await readArtifact(r.version, r.arch, tmp))) throw new ReleaseApiError('RELEASE_NOT_FOUND', `release ${r.version} ${r.artifact}: no copy in this data dir and none in the database (import it again)`);
      const sha = await sha256File(tmp);
      try {
        checkSha(r.artifact, sha, r.sha256);
      } catch (err) {
        throw new ReleaseApiError('CHECKSUM_MISMATCH', `the copy in the database: ${(err as Error).message}`);
      }
      fs.renameSync(tmp, file);
      this.#checked.set(file, r.sha256);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return file;
  }

  /** Streams the body to a temporary file while hashing it; verified, it becomes the release. */
  async import(req: IncomingMessage, version: string, artifact: string): Promise<ReleaseView> {
    const arch = ARTIFACT.exec(artifact)?.[1];
    if (!arch) throw new ReleaseApiError('RELEASE_INVALID', `${artifact}: only drover-linux-amd64 and drover-linux-arm64 are releases`);
    if (!VERSION.test(version)) throw new ReleaseApiError('RELEASE_INVALID', `${version}: not a semantic version`);
    const sums = Buffer.from(String(req.headers['x-drover-sums'] ?? ''), 'base64').toString('utf8');
    const signature = String(req.headers['x-drover-signature'] ?? '');
    if (!sums || !signature) throw new ReleaseApiError('SIGNATURE_MISSING', 'the upload carries no X-Drover-Sums / X-Drover-Signature: unsigned releases are refused');
    const key = this.#publicKey();
    if (!key) throw new ReleaseApiError('RELEASE_KEY_MISSING');
    let expected: string;
    try {
      const verified = verifyRelease({ sumsText: sums, signature, publicKeyPem: key, arch });
      if (verifiedVersion(verified.sums, Buffer.from(`${version}\n`)) !== version) throw new UpgradeError('VERSION_MISSING', `the signed VERSION is not ${version}`);
      expected = verified.sha256;
    } catch (err) {
      if (err instanceof UpgradeError) throw new ReleaseApiError(err.code, err.message);
      throw err;
    }
    const rel = path.join('releases', version, artifact);
    const dest = path.join(this.#dataDir, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    const tmp = `${dest}.${process.pid}.upload`;
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        req,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            size += chunk.length;
            if (size > MAX_ARTIFACT_BYTES) return cb(new ReleaseApiError('RELEASE_INVALID', `${artifact} is larger than ${MAX_ARTIFACT_BYTES} bytes`));
            hash.update(chunk);
            cb(null, chunk);
          },
        }),
        fs.createWriteStream(tmp, { mode: 0o644 }),
      );
      try {
        checkSha(artifact, hash.digest('hex'), expected);
      } catch (err) {
        throw new ReleaseApiError('CHECKSUM_MISMATCH', (err as Error).message);
      }
      fs.renameSync(tmp, dest);
      this.#checked.set(dest, expected);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    const record: ReleaseRecord = { version, arch, artifact, sha256: expected, size, sums, signature, file: rel, importedAt: this.#now() };
    // The bytes first (a shared store: other replicas fetch them), then the row that announces them.
    await this.#records.putArtifact?.(version, arch, dest);
    await this.#records.putRelease(record);
    return releaseView(record);
  }
}

