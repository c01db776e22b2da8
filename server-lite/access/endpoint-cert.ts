// Certificates of cluster local endpoints (issue 18, decision 0950): each cluster gets its own CA,
// made by the server and kept in DIR/access/<cluster>/ (the CA key never leaves the server), and a
// serving certificate for the endpoint's listen address and FQDN, whose key is sent to that
// cluster's agent over the tunnel. A CA of its own per cluster: a device that leaks its key can
// impersonate only its own endpoint, and the server CA can rotate without touching kubeconfigs of
// local contexts. Re-issued when the names change or it nears expiry (renewal, decision 0953).
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { buildCertificate, derToPem } from '../tls/certificate.ts';
import { certificateSerial, ensureCaFiles, writeSecretFile } from '../tls/ca-files.ts';
import { ACCESS_LIMITS } from './limits.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface EndpointTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}


/** The names the serving certificate carries: FQDN, the listen host unless a wildcard, loopback. */
export function endpointNames(listenHost: string, fqdn: string | null): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1']);
  if (fqdn) names.add(fqdn);
  if (listenHost !== '' && listenHost !== '0.0.0.0' && listenHost !== '::') names.add(listenHost);
  return [...names];
}

/** True when `certPem` lacks a name of `names`, or is within the renewal window at `now`. */
export function needsReissue(certPem: string, caPem: string, names: readonly string[], now: number, renewBeforeDays = ACCESS_LIMITS.endpointCertRenewBeforeDays): boolean {
  const cert = new X509Certificate(certPem);
  if (!cert.checkIssued(new X509Certificate(caPem))) return true;
  if (now >= new Date(cert.validTo).getTime() - renewBeforeDays * DAY_MS) return true;
  return names.some((n) => (isIP(n) ? cert.checkIP(n) === undefined : cert.checkHost(n) === undefined));
}

/** Loads (creating or re-issuing as needed) the endpoint CA and serving certificate of a cluster. */
export function ensureEndpointTls(accessDir: string, clusterId: string, names: readonly string[], now: number): EndpointTls {
  const dir = join(accessDir, clusterId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  ensureCaFiles(caFile, caKeyFile, `drover-endpoint-ca-${clusterId}`, ACCESS_LIMITS.endpointCaLifetimeDays, now);
  const caPem = readFileSync(caFile, 'utf8');
  if (!existsSync(certFile) || !existsSync(keyFile) || needsReissue(readFileSync(certFile, 'utf8'), caPem, names, now)) {
    const caKey = createPrivateKey(readFileSync(caKeyFile, 'utf8'));
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = buildCertificate({
      subjectCommonName: `drover-endpoint-${clusterId}`,
      issuerCommonName: `drover-endpoint-ca-${clusterId}`,
      serial: certificateSerial(),
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + ACCESS_LIMITS.endpointCertLifetimeDays * DAY_MS),
      publicKey,
      signingKey: caKey,
      issuerPublicKey: createPublicKey(caKey),
      isCA: false,
      subjectAltNames: names,
    });
    writeSecretFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(certFile, derToPem(der), { mode: 0o644 });
  }
  return { caPem, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}
