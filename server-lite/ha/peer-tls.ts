// The certificate a replica shows other replicas (issue 17): issued at start, in memory, by the
// server CA every replica shares (the data dir's tls/ca.key), for both TLS ends (serverAuth and
// clientAuth) and named `drover-replica:<id>`. Peers require such a certificate from the same CA,
// so the links between replicas are mutually authenticated without any other secret.
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCertificate, derToPem } from '../tls/certificate.ts';
import { certificateSerial } from '../tls/ca-files.ts';
import { trustBundle } from '../tls/ca-rotation.ts';

export const PEER_CN_PREFIX = 'drover-replica:';
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PeerTls {
  certPem: string;
  keyPem: string;
  /** CAs a peer's certificate must chain to. */
  caPem: string;
}

export function issuePeerTls(dataDir: string, replicaId: string, host: string, now: number): PeerTls {
  const dir = join(dataDir, 'tls');
  const caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const caKey = createPrivateKey(readFileSync(join(dir, 'ca.key'), 'utf8'));
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = buildCertificate({
    subjectCommonName: `${PEER_CN_PREFIX}${replicaId}`,
    issuerCommonName: /(?:^|\n)CN=([^\n]+)/.exec(new X509Certificate(caPem).subject)?.[1] ?? 'drover-server-ca',
    serial: certificateSerial(),
    notBefore: new Date(now - DAY_MS),
    // Re-issued on every start; a replica running for a year is restarted by its upgrades anyway.
    notAfter: new Date(now + 365 * DAY_MS),
    publicKey,
    signingKey: caKey,
    issuerPublicKey: createPublicKey(caKey),
    isCA: false,
    subjectAltNames: [host],
    extKeyUsages: ['serverAuth', 'clientAuth'],
  });
  return { certPem: derToPem(der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), caPem: trustBundle(dataDir) };
}

/** True when a verified peer certificate names a replica (not the serving certificate, not a user). */
export function isReplicaCertificate(subjectCn: string | undefined): boolean {
  return typeof subjectCn === 'string' && subjectCn.startsWith(PEER_CN_PREFIX);
}
