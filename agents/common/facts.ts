// Facts every agent reports about its device (protocol `facts` message: hostname, os, arch,
// agentVersion). Role-specific facts (Kubernetes version, node count) are merged in by the role.
import os from 'node:os';

export interface Facts {
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
  kubernetesVersion?: string;
  nodeCount?: number;
  extras?: Record<string, string>;
}

/** Node's `process.arch` in the names our artifacts use (x64 → amd64). */
export function archName(nodeArch: string): string {
  return nodeArch === 'x64' ? 'amd64' : nodeArch;
}

export interface HostInfo {
  hostname: string;
  platform: string;
  release: string;
  arch: string;
}

export function hostInfo(): HostInfo {
  return { hostname: os.hostname(), platform: os.platform(), release: os.release(), arch: process.arch };
}

export function baseFacts(agentVersion: string, host: HostInfo = hostInfo()): Facts {
  return {
    hostname: host.hostname.slice(0, 256),
    os: host.platform,
    arch: archName(host.arch),
    agentVersion,
    extras: { kernel: host.release.slice(0, 256) },
  };
}

/** Stable comparison so facts are re-sent only when something actually changed. */
export function factsEqual(a: Facts, b: Facts): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
