// Server CA rotation on disk (issue 18, decision 0952), under DIR/tls/:
// - start: a new CA (`ca-next.{crt,key}`, no path-length limit) and a cross-signed certificate
//   (`cross-next.crt`), with `rotation.json` saying when to switch. Agents get the bundle
//   [new, current] pushed over the tunnel during the overlap.
// - switch: the current CA is retired (`retired/<sha256>.{crt,key}`), the new one becomes
//   `ca.{crt,key}` (what `GET /v1/ca`, join tokens and admin commands trust), and the cross-signed
//   certificate becomes `chain.crt`, served after every leaf, so an agent that was offline for the
//   whole rotation and trusts only the old CA still verifies the server:
//   - `successor` mode (the old CA allows intermediates): leaves come from the new CA; the chain is
//     the new CA cross-signed by the old one (leaf → new CA' → old CA).
//   - `keep-signer` mode (the old CA has pathLen 0, as every CA made before issue 18: OpenSSL
//     enforces it on trust anchors, so no intermediate may sit under it): leaves keep coming from
//     the old CA's key (`signer.{crt,key}`); the chain is the old CA cross-signed by the new one
//     (leaf → old CA' → new CA), which clients that trust only the new CA follow. The next rotation,
//     from a CA without the limit, is a `successor` one.
// File moves are ordered so a crash at any point leaves a state `ensureTlsMaterial` can serve.
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCertificate, caHash, derToPem } from './certificate.ts';
import { LIMITS } from '../limits.ts';
import { certificateSerial } from './ca-files.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RotationState {
  nextCaHash: string;
  mode: 'successor' | 'keep-signer';
  startedAt: number;
  switchAt: number;
}

const files = (dataDir: string) => {
  const dir = join(dataDir, 'tls');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    next: join(dir, 'ca-next.crt'),
    nextKey: join(dir, 'ca-next.key'),
    cross: join(dir, 'cross-next.crt'),
    chain: join(dir, 'chain.crt'),
    state: join(dir, 'rotation.json'),
    retired: join(dir, 'retired'),
    signer: join(dir, 'signer.crt'),
    signerKey: join(dir, 'signer.key'),
  };
};


function writeAtomic(path: string, content: string, mode: number): void {
  writeFileSync(`${path}.tmp`, content, { mode });
  chmodSync(`${path}.tmp`, mode);
  renameSync(`${path}.tmp`, path);
}

/**
 * The basicConstraints path length of a CA certificate (null: none), read from its DER: the
 * extension OID 2.5.29.19, an optional critical flag, then OCTET STRING { SEQUENCE { BOOLEAN, INTEGER? } }.
 */
export function pathLenOf(der: Buffer): number | null {
  const oid = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x13]);
  let i = der.indexOf(oid);
  if (i < 0) return null;
  i += oid.length;
  if (der[i] === 0x01) i += 3; // critical BOOLEAN
  if (der[i] !== 0x04) return null;
  i += 2; // OCTET STRING, short length
  if (der[i] !== 0x30) return null;
  const seqLen = der[i + 1] ?? 0;
  let j = i + 2;
  const end = j + seqLen;
  if (der[j] === 0x01) j += 3; // cA BOOLEAN
  if (j >= end || der[j] !== 0x02) return null;
  const len = der[j + 1] ?? 0;
  let n = 0;
  for (let k = 0; k < len; k++) n = n * 256 + (der[j + 2 + k] ?? 0);
  return n;
}

/** Common name of a certificate (`CN=…` of its subject). */
function commonName(cert: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1] ?? 'drover-server-ca';
}

export function readRotation(dataDir: string): RotationState | undefined {
  const f = files(dataDir);
  if (!existsSync(f.state) || !existsSync(f.next)) return undefined;
  return JSON.parse(readFileSync(f.state, 'utf8')) as RotationState;
}

/** Begins a rotation: a new CA, cross-signed by the current one; the switch is due at `now + overlapMs`. */
export function startRotation(dataDir: string, now: number, overlapMs: number): RotationState {
  const f = files(dataDir);
  if (readRotation(dataDir)) throw new Error('a CA rotation is already in progress');
  const currentCert = new X509Certificate(readFileSync(f.ca, 'utf8'));
  const currentKey = createPrivateKey(readFileSync(f.caKey, 'utf8'));
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // A name of its own per CA generation, so chains are built by name as well as by key identifier.
  const name = `drover-server-ca-${new Date(now).toISOString().replace(/[-:TZ.]/g, '').slice(0, 14)}`;
  const notAfter = new Date(now + LIMITS.caLifetimeDays * DAY_MS);
  const nextDer = buildCertificate({
    subjectCommonName: name, issuerCommonName: name, serial: certificateSerial(), notBefore: new Date(now - DAY_MS), notAfter,
    publicKey, signingKey: privateKey, issuerPublicKey: publicKey, isCA: true, pathLen: null,
  });
  const mode: RotationState['mode'] = pathLenOf(currentCert.raw) === 0 ? 'keep-signer' : 'successor';
  // successor: the new CA vouched for by the current one; keep-signer: the current CA vouched for
  // by the new one. Either is valid as long as both CAs are.
  const until = new Date(Math.min(notAfter.getTime(), new Date(currentCert.validTo).getTime()));
  const crossDer =
    mode === 'successor'
      ? buildCertificate({
          subjectCommonName: name, issuerCommonName: commonName(currentCert), serial: certificateSerial(), notBefore: new Date(now - DAY_MS), notAfter: until,
          publicKey, signingKey: currentKey, issuerPublicKey: createPublicKey(currentKey), isCA: true, pathLen: null,
        })
      : buildCertificate({
          subjectCommonName: commonName(currentCert), issuerCommonName: name, serial: certificateSerial(), notBefore: new Date(now - DAY_MS), notAfter: until,
          publicKey: createPublicKey(currentKey), signingKey: privateKey, issuerPublicKey: publicKey, isCA: true, pathLen: 0,
        });
  mkdirSync(f.dir, { recursive: true, mode: 0o700 });
  writeAtomic(f.nextKey, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  writeAtomic(f.next, derToPem(nextDer), 0o644);
  writeAtomic(f.cross, derToPem(crossDer), 0o644);
  const state: RotationState = { nextCaHash: caHash(nextDer), mode, startedAt: now, switchAt: now + Math.max(0, overlapMs) };
  writeAtomic(f.state, `${JSON.stringify(state, null, 2)}\n`, 0o600);
  return state;
}

/** The switch: retire the current CA, make the new one current, serve the cross-signed chain. */
export function completeRotation(dataDir: string): void {
  const f = files(dataDir);
  const state = readRotation(dataDir);
  if (!state) return;
  const old = new X509Certificate(readFileSync(f.ca, 'utf8'));
  const oldHash = caHash(old.raw);
  mkdirSync(f.retired, { recursive: true, mode: 0o700 });
  // Retired copies first (a crash here leaves the rotation pending, to be completed at start).
  writeAtomic(join(f.retired, `${oldHash}.crt`), readFileSync(f.ca, 'utf8'), 0o644);
  writeAtomic(join(f.retired, `${oldHash}.key`), readFileSync(f.caKey, 'utf8'), 0o600);
  if (state.mode === 'keep-signer') {
    // Leaves keep coming from the old key (signer first, so a crash never leaves leaves unsigned).
    writeAtomic(f.signerKey, readFileSync(f.caKey, 'utf8'), 0o600);
    writeAtomic(f.signer, readFileSync(f.ca, 'utf8'), 0o644);
  } else {
    rmSync(f.signer, { force: true });
    rmSync(f.signerKey, { force: true });
  }
  writeAtomic(f.chain, readFileSync(f.cross, 'utf8'), 0o644);
  renameSync(f.nextKey, f.caKey);
  renameSync(f.next, f.ca);
  rmSync(f.cross, { force: true });
  rmSync(f.state, { force: true });
}

/** Every CA this server has had and can still vouch for, by sha256 (for `GET /v1/ca?sha256=`). */
export function knownCas(dataDir: string): Map<string, string> {
  const f = files(dataDir);
  const out = new Map<string, string>();
  const add = (path: string) => {
    if (!existsSync(path)) return;
    const pem = readFileSync(path, 'utf8');
    out.set(caHash(new X509Certificate(pem).raw), pem);
  };
  add(f.ca);
  add(f.next);
  if (existsSync(f.retired)) for (const n of readdirSync(f.retired)) if (n.endsWith('.crt')) add(join(f.retired, n));
  return out;
}

/** What agents should trust now: the current CA, and the next one during a rotation. */
export function trustBundle(dataDir: string): string {
  const f = files(dataDir);
  const current = readFileSync(f.ca, 'utf8');
  return readRotation(dataDir) ? `${readFileSync(f.next, 'utf8')}${current}` : current;
}

/** True once this server has rotated its CA (or is rotating): only then is a trust bundle pushed. */
export function hasRotated(dataDir: string): boolean {
  const f = files(dataDir);
  return readRotation(dataDir) !== undefined || existsSync(f.retired);
}
