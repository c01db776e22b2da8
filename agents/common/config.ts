// Agent configuration: parsed once from flags / DROVER_… environment mirrors by the CLI, validated
// here, then frozen (STYLE: no global config mutated after parsing). Pure: no I/O.
import path from 'node:path';
import { AgentError } from './errors.ts';
import { LIMITS } from './limits.ts';
import type { BackoffOptions } from './backoff.ts';
import { AGENT_ROLES } from '../../protocol/index.ts';

/** The agent roles, defined once for server and agents (protocol/contracts/roles.ts). */
export const ROLES = AGENT_ROLES;
export type Role = (typeof ROLES)[number];

export const DEFAULT_DATA_DIR = '/var/lib/drover/agent';

export interface RegisterConfig {
  readonly dataDir: string;
  readonly server: string;
  readonly token: string;
  readonly name: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly kubeconfig: string | undefined;
  readonly roles: readonly Role[];
  readonly agentVersion: string;
}

export interface RunConfig {
  readonly dataDir: string;
  readonly roles: readonly Role[];
  readonly backoff: Readonly<BackoffOptions>;
  readonly agentVersion: string;
}

export interface RawRegisterOptions {
  dataDir?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
  name?: string | undefined;
  labels?: string | undefined;
  kubeconfig?: string | undefined;
  roles?: string | undefined;
}

export interface RawRunOptions {
  dataDir?: string | undefined;
  roles?: string | undefined;
  backoffCap?: string | undefined;
}

function invalid(message: string): AgentError {
  return new AgentError('INVALID_CONFIG', message);
}

/** `https://host[:port]` with no path, query or credentials; trailing slash removed. */
export function parseServerUrl(raw: string | undefined): string {
  if (!raw) throw invalid('--server (DROVER_SERVER) is required, e.g. https://drover.example.com:9443');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`--server: "${raw}" is not a URL; expected https://HOST[:PORT]`);
  }
  if (url.protocol !== 'https:') throw invalid(`--server: "${raw}" must use https://`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw invalid(`--server: "${raw}" must be just https://HOST[:PORT]`);
  }
  return url.origin;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** `k=v,k2=v2` (Kubernetes label syntax) into a plain object; empty input gives `{}`. */
export function parseLabels(raw: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!raw || raw.trim() === '') return labels;
  for (const part of raw.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid(`--labels: "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!LABEL_KEY.test(key)) throw invalid(`--labels: "${key}" is not a valid label key`);
    if (!LABEL_VALUE.test(value)) throw invalid(`--labels: "${value}" is not a valid label value`);
    labels[key] = value;
  }
  return labels;
}

function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** `cluster,node,fleet` (any subset, any order, no duplicates). Default: all three. */
export function parseRoles(raw: string | undefined): Role[] {
  if (raw === undefined || raw.trim() === '') return [...ROLES];
  const roles: Role[] = [];
  for (const part of raw.split(',').map((s) => s.trim())) {
    if (!isRole(part)) throw invalid(`--roles: "${part}" is not one of ${ROLES.join(', ')}`);
    if (!roles.includes(part)) roles.push(part);
  }
  return roles;
}

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `5m`, `1h`; a bare number is seconds. */
export function parseDuration(raw: string, flag: string): number {
  const match = DURATION_RE.exec(raw.trim());
  if (!match) throw invalid(`${flag}: "${raw}" is not a duration like 30s, 5m or 1h`);
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1000);
  if (!Number.isFinite(ms) || ms <= 0) throw invalid(`${flag}: "${raw}" must be positive`);
  return Math.round(ms);
}

export function resolveDataDir(raw: string | undefined, cwd: string = process.cwd()): string {
  return path.resolve(cwd, raw && raw !== '' ? raw : DEFAULT_DATA_DIR);
}

export function parseRegisterConfig(raw: RawRegisterOptions, agentVersion: string, cwd?: string): RegisterConfig {
  if (!raw.token) throw invalid('--token (DROVER_TOKEN) is required: the join token from `drover token create`');
  return Object.freeze({
    dataDir: resolveDataDir(raw.dataDir, cwd),
    server: parseServerUrl(raw.server),
    token: raw.token,
    name: raw.name && raw.name !== '' ? raw.name : undefined,
    labels: Object.freeze(parseLabels(raw.labels)),
    kubeconfig: raw.kubeconfig ? path.resolve(cwd ?? process.cwd(), raw.kubeconfig) : undefined,
    roles: Object.freeze(parseRoles(raw.roles)),
    agentVersion,
  });
}

export function parseRunConfig(raw: RawRunOptions, agentVersion: string, cwd?: string): RunConfig {
  const capMs = raw.backoffCap ? parseDuration(raw.backoffCap, '--backoff-cap') : LIMITS.backoffCapMs;
  const baseMs = Math.min(LIMITS.backoffBaseMs, capMs);
  return Object.freeze({
    dataDir: resolveDataDir(raw.dataDir, cwd),
    roles: Object.freeze(parseRoles(raw.roles)),
    backoff: Object.freeze({
      baseMs,
      capMs,
      stableAfterMs: LIMITS.backoffStableAfterMs,
      maxExponent: LIMITS.backoffMaxExponent,
    }),
    agentVersion,
  });
}
