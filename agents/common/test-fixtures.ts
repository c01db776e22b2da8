// Shared fixtures for the agents/common unit tests (not imported by production code).
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
