// The server's TLS identity under DIR/tls/: a CA (whose hash goes into every join token) and a
// serving certificate signed by it. Created on first start, reused on restart; the serving
// certificate is re-issued (same CA, so join tokens stay valid) when a SAN is added or it nears expiry.
import { generateKeyPairSync, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildCertificate, caHash, derToPem, ipBytes } from './certificate.ts';
import { certificateSerial, ensureCaFiles, writeSecretFile } from './ca-files.ts';
import { isIP } from 'node:net';
import { LIMITS } from '../limits.ts';

export interface TlsMaterial {
  caPem: string;
  caDer: Buffer;
  /** sha256 hex of the CA's DER bytes (the `D10<hash>` part of join tokens). */
  caHash: string;
  /** The serving certificate, followed by the cross-signed chain after a CA rotation (decision 0952). */
  certPem: string;
  keyPem: string;
  caFile: string;
  /** When the serving certificate expires (epoch ms). */
  certNotAfter: number;
}

/** Lifetime and renewal window of the serving certificate (tests use short ones; decision 0953). */
export interface ServingCertPolicy {
  lifetimeMs: number;
  renewBeforeMs: number;
}

export const DEFAULT_SERVING_CERT_POLICY: ServingCertPolicy = Object.freeze({
  lifetimeMs: LIMITS.servingCertLifetimeDays * 24 * 60 * 60 * 1000,
  renewBeforeMs: LIMITS.servingCertRenewBeforeDays * 24 * 60 * 60 * 1000,
});

const DAY_MS = 24 * 60 * 60 * 1000;


function pemToDer(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}

function sansOf(cert: X509Certificate): Set<string> {
  const out = new Set<string>();
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    const [kind, value] = part.split(/:(.*)/s);
    if (value && (kind === 'DNS' || kind === 'IP Address')) out.add(canonicalName(value));
  }
  return out;
}

/** OpenSSL prints `::1` as `0:0:0:0:0:0:0:1`: compare addresses by their bytes. */
function canonicalName(name: string): string {
  return isIP(name) ? `ip:${ipBytes(name).toString('hex')}` : `dns:${name.toLowerCase()}`;
}


/** Loads or creates the CA and serving certificate. `now` is injected for tests. */
export function ensureTlsMaterial(dataDir: string, subjectAltNames: readonly string[], now: Date, policy: ServingCertPolicy = DEFAULT_SERVING_CERT_POLICY): TlsMaterial {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');

  ensureCaFiles(caFile, caKeyFile, 'drover-server-ca', LIMITS.caLifetimeDays, now.getTime());
  const caPem = readFileSync(caFile, 'utf8');
  // The CA that signs leaves: the CA itself, or after a `keep-signer` CA rotation the previous CA
  // (signer.crt/.key; ca-rotation.ts, decision 0952).
  const signerFile = join(dir, 'signer.crt');
  const signed = existsSync(signerFile) && existsSync(join(dir, 'signer.key'));
  const signerPem = signed ? readFileSync(signerFile, 'utf8') : caPem;
  const caKey = createPrivateKey(readFileSync(signed ? join(dir, 'signer.key') : caKeyFile, 'utf8'));
  const caPublic = createPublicKey(caKey);

  const wanted = new Set(subjectAltNames);
  let reissue = !existsSync(certFile) || !existsSync(keyFile);
  if (!reissue) {
    const current = new X509Certificate(readFileSync(certFile, 'utf8'));
    const has = sansOf(current);
    const renewBy = new Date(current.validTo).getTime() - policy.renewBeforeMs;
    reissue = [...wanted].some((n) => !has.has(canonicalName(n))) || now.getTime() >= renewBy || !current.checkIssued(new X509Certificate(signerPem));
  }
  if (reissue) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = buildCertificate({
      subjectCommonName: 'drover-server',
      // The issuer's name as the CA spells it (rotated CAs have names of their own).
      issuerCommonName: /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(signerPem).subject)?.[1] ?? 'drover-server-ca',
      serial: certificateSerial(),
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + policy.lifetimeMs),
      publicKey,
      signingKey: caKey,
      issuerPublicKey: caPublic,
      isCA: false,
      subjectAltNames: [...wanted],
    });
    writeSecretFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(certFile, derToPem(der), { mode: 0o644 });
  }
  const caDer = pemToDer(caPem);
  const leafPem = readFileSync(certFile, 'utf8');
  // After a CA rotation: the new CA cross-signed by the old one(s), so agents that still trust
  // only an old CA verify the new leaf too (ca-rotation.ts).
  const chainFile = join(dir, 'chain.crt');
  const chain = existsSync(chainFile) ? readFileSync(chainFile, 'utf8') : '';
  return {
    caPem,
    caDer,
    caHash: caHash(caDer),
    certPem: `${leafPem}${chain}`,
    keyPem: readFileSync(keyFile, 'utf8'),
    caFile,
    certNotAfter: new Date(new X509Certificate(leafPem).validTo).getTime(),
  };
}
