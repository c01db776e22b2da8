// Shared fixtures for the agents/common unit tests (not imported by production code).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Identity } from './store.ts';

export function sampleIdentity(over: Partial<Identity> = {}): Identity {
  return {
    serverUrl: 'https://127.0.0.1:9443', caPem: '-----BEGIN CERTIFICATE-----\n', caSha256: 'ab'.repeat(32),
    agentId: 'a1', clusterId: 'c1', nodeId: 'n1', credential: 'a1.secret', credentialIssuedAt: '2026-11-24T00:00:00.000Z',
    credentialExpiresAt: '2027-11-24T00:00:00.000Z', name: 'edge-1', labels: { site: 'x' }, kubeconfig: null,
    roles: ['cluster', 'node', 'fleet'], registeredAt: '2026-11-24T00:00:00.000Z', ...over,
  };
}


/** Polls `cond` every 10 ms until true; throws after `timeoutMs` (a deadline, not an assertion). */
export async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A self-signed P-256 certificate for 127.0.0.1 (it is its own CA), made with the openssl CLI. */
export function selfSignedCert(dir: string): { key: string; cert: string } {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') };
}
