// What every certificate the server issues shares (its own CA and serving certificate, a CA
// rotation's new CA and cross-signatures, each cluster's local endpoint CA): a positive random
// 128-bit serial, private keys written 0600, and a self-signed P-256 CA created once in two files.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { buildCertificate, derToPem } from './certificate.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A positive (top bit clear) random 128-bit certificate serial. */
export function certificateSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b;
}

/** Writes a private key or token readable by the server's user only (also when the file existed). */
export function writeSecretFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600); // mode is ignored when the file already existed
}

/**
 * Creates a self-signed CA in `caFile`/`caKeyFile` unless both exist; valid from a day before `now`
 * (devices' clocks drift) for `lifetimeDays`.
 */
export function ensureCaFiles(caFile: string, caKeyFile: string, commonName: string, lifetimeDays: number, now: number): void {
  if (existsSync(caFile) && existsSync(caKeyFile)) return;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = buildCertificate({
    subjectCommonName: commonName,
    issuerCommonName: commonName,
    serial: certificateSerial(),
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + lifetimeDays * DAY_MS),
    publicKey,
    signingKey: privateKey,
    issuerPublicKey: publicKey,
    isCA: true,
  });
  writeSecretFile(caKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  writeFileSync(caFile, derToPem(der), { mode: 0o644 });
}
