// Release verification (pure, issue 16): a release is a `sha256sums` file signed with the
// project's Ed25519 release key (`sha256sums.sig`, base64). Agents and the server check the
// signature with the public key built into their own executable, then the artifact's SHA-256
// against the signed list — so a compromised server can serve bytes but never make an agent run
// them. No I/O: callers read the files and pass bytes.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { UpgradeError } from './release-errors.ts';

/** File name → lowercase hex SHA-256, in file order. */
export type Sums = ReadonlyMap<string, string>;

const LINE = /^([0-9a-f]{64}) [ *](\S+)$/;
/** Bounded: a release lists a handful of files. */
export const MAX_SUMS_BYTES = 64 * 1024;

/** Parses `sha256sum` output (`HEX  NAME`; `HEX *NAME` binary mode too). Names may contain one `/` level (air-gap `systemd/…`). */
export function parseSums(text: string): Sums {
  if (Buffer.byteLength(text) > MAX_SUMS_BYTES) throw new UpgradeError('SUMS_INVALID', `sha256sums is larger than ${MAX_SUMS_BYTES} bytes`);
  const out = new Map<string, string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new UpgradeError('SUMS_INVALID', 'sha256sums is empty');
  lines.forEach((line, i) => {
    const m = LINE.exec(line);
    const name = m?.[2] ?? '';
    if (!m || name.startsWith('/') || name.split('/').includes('..')) throw new UpgradeError('SUMS_INVALID', `sha256sums line ${i + 1} is not "<sha256>  <file>": ${JSON.stringify(line.slice(0, 120))}`);
    if (out.has(name)) throw new UpgradeError('SUMS_INVALID', `sha256sums lists ${name} twice`);
    out.set(name, m[1] ?? '');
  });
  return out;
}

export function publicKeyFrom(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new UpgradeError('SIGNATURE_INVALID', `the release public key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  return key;
}

/** Throws SIGNATURE_INVALID unless `signature` (base64, as in sha256sums.sig) signs exactly `sumsText`. */
export function verifySumsSignature(sumsText: string, signature: string, publicKeyPem: string): void {
  const sig = Buffer.from(signature.trim(), 'base64');
  let ok = false;
  try {
    ok = sig.length === 64 && verify(null, Buffer.from(sumsText, 'utf8'), publicKeyFrom(publicKeyPem), sig);
  } catch {
    ok = false;
  }
  if (!ok) throw new UpgradeError('SIGNATURE_INVALID', 'sha256sums.sig does not verify with the release key built into this drover: the release was not signed by its publisher or was changed after signing; nothing was installed');
}

export function artifactName(arch: string): string {
  return `drover-linux-${arch}`;
}

/** The signed SHA-256 of the executable for `arch`. */
export function expectedSha(sums: Sums, arch: string): string {
  const sha = sums.get(artifactName(arch));
  if (!sha) throw new UpgradeError('ARTIFACT_MISSING', `the signed sha256sums lists no ${artifactName(arch)} (it lists ${[...sums.keys()].join(', ')})`);
  return sha;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws CHECKSUM_MISMATCH unless `actual` is `expected`. */
export function checkSha(name: string, actual: string, expected: string): void {
  if (actual !== expected) {
    throw new UpgradeError('CHECKSUM_MISMATCH', `${name}: SHA-256 ${actual.slice(0, 16)}… differs from the signed ${expected.slice(0, 16)}…: the file is damaged or was replaced; nothing was installed`);
  }
}

export interface VerifiedRelease {
  sums: Sums;
  /** From the signed VERSION file's hash check, done by the caller that has its bytes. */
  artifact: string;
  sha256: string;
}

/** Signature, then the arch's entry: what must hold before any byte of the artifact is trusted. */
export function verifyRelease(input: { sumsText: string; signature: string; publicKeyPem: string; arch: string }): VerifiedRelease {
  verifySumsSignature(input.sumsText, input.signature, input.publicKeyPem);
  const sums = parseSums(input.sumsText);
  return { sums, artifact: artifactName(input.arch), sha256: expectedSha(sums, input.arch) };
}

/** The release version from a VERSION file whose bytes match the signed list. */
export function verifiedVersion(sums: Sums, versionBytes: Uint8Array | undefined): string {
  const expected = sums.get('VERSION');
  if (!expected || !versionBytes) throw new UpgradeError('VERSION_MISSING', 'the release has no VERSION file listed in its signed sha256sums (built before releases were versioned?)');
  checkSha('VERSION', sha256Hex(versionBytes), expected);
  const v = Buffer.from(versionBytes).toString('utf8').trim();
  if (!/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]{1,64})?$/.test(v)) throw new UpgradeError('VERSION_MISSING', `VERSION holds ${JSON.stringify(v.slice(0, 40))}, not a semantic version`);
  return v;
}
