// The Kubernetes binaries the server imported for `drover upgrade kubernetes` (issue 15, decision
// 1061): `<data-dir>/artifacts/kubernetes/<version>/<name>` with its SHA-256 beside it in
// `<name>.sha256`. An import streams to a temp file while hashing and is renamed into place only
// when the hash is the one named (a release's binary never changes: another hash for the same
// version and name is refused). Node agents fetch them from here, so air-gapped sites need nothing
// but their link to the server.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { DISTRIBUTION_BINARIES } from './k8s-upgrade-plan.ts';
import { PlanError } from './errors.ts';

const VERSION = /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]{1,40})?$/;
const SHA256 = /^[0-9a-f]{64}$/;
const NAMES: ReadonlySet<string> = new Set(Object.values(DISTRIBUTION_BINARIES).flat());
/** A Kubernetes server binary is ~100 MB; k3s/rke2 ~70–150 MB. */
export const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;

export interface ArtifactInfo {
  path: string;
  version: string;
  name: string;
  sha256: string;
  size: number;
}

function fsyncFile(p: string): void {
  const fd = openSync(p, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class K8sArtifactStore {
  readonly root: string;
  constructor(dataDir: string) {
    this.root = join(dataDir, 'artifacts', 'kubernetes');
  }

  static check(version: string, name: string, sha256?: string): void {
    if (!VERSION.test(version)) throw new PlanError('ARTIFACT_INVALID', `version "${version.slice(0, 64)}": expected one like v1.34.4`);
    if (!NAMES.has(name)) throw new PlanError('ARTIFACT_INVALID', `"${name.slice(0, 64)}" is not a Kubernetes binary drover upgrades (${[...NAMES].join(', ')})`);
    if (sha256 !== undefined && !SHA256.test(sha256)) throw new PlanError('ARTIFACT_INVALID', 'sha256: expected 64 lowercase hex digits');
  }

  /** Streams `body` in; resolves once the file is durable under its name (after the hash matched). */
  async put(version: string, name: string, sha256: string, body: Readable): Promise<ArtifactInfo & { created: boolean }> {
    K8sArtifactStore.check(version, name, sha256);
    const dir = join(this.root, version);
    const existing = this.get(version, name);
    if (existing && existing.sha256 !== sha256) {
      body.resume();
      throw new PlanError('ARTIFACT_EXISTS', `${version}/${name} was imported with SHA-256 ${existing.sha256}, not ${sha256}`);
    }
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > MAX_ARTIFACT_BYTES) return done(new PlanError('ARTIFACT_INVALID', `larger than ${MAX_ARTIFACT_BYTES} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(tmp, { mode: 0o644 }));
      const got = hash.digest('hex');
      if (got !== sha256) throw new PlanError('ARTIFACT_CHECKSUM_MISMATCH', `${version}/${name}: the uploaded bytes have SHA-256 ${got}, not ${sha256}; nothing was kept`);
      if (existing) {
        rmSync(tmp, { force: true });
        return { ...existing, created: false };
      }
      fsyncFile(tmp);
      // The hash file first: a binary without it is never served.
      writeFileSync(join(dir, `${name}.sha256`), `${sha256}  ${name}\n`);
      renameSync(tmp, join(dir, name));
      fsyncFile(dir);
      return { path: join(dir, name), version, name, sha256, size, created: true };
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  get(version: string, name: string): ArtifactInfo | undefined {
    K8sArtifactStore.check(version, name);
    const path = join(this.root, version, name);
    if (!existsSync(path) || !existsSync(`${path}.sha256`)) return undefined;
    const sha256 = readFileSync(`${path}.sha256`, 'utf8').split(/\s/)[0] ?? '';
    return { path, version, name, sha256, size: statSync(path).size };
  }

  list(): ArtifactInfo[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).sort().flatMap((version) => {
      if (!VERSION.test(version)) return [];
      return readdirSync(join(this.root, version)).filter((n) => NAMES.has(n)).sort().flatMap((n) => this.get(version, n) ?? []);
    });
  }

  /** A read stream of the file (the agent verifies the SHA-256 it was told in the plan). */
  open(a: ArtifactInfo): Readable {
    return createReadStream(a.path);
  }
}
