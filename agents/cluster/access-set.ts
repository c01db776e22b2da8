// What the server syncs to a cluster agent for its local endpoint (issue 18, docs/access.md): the
// endpoint's settings and serving certificate, and who may use it — the hashes of the API tokens of
// the users with a role on this cluster (and of global admins), each with its expiry and the
// Kubernetes identity the server's proxy would use for that user. Pure: the shape and its checks.

import { CLUSTER_AGENT_TARGETS, type AccessSet, type AccessToken, type AccessUser, type EndpointSettings } from '../../protocol/index.ts';

export type { AccessSet, AccessToken, AccessUser, EndpointSettings };
export const ACCESS_TARGET = CLUSTER_AGENT_TARGETS.access;

const MAX_ENTRIES = 100_000;
const isStr = (v: unknown, max = 1024): v is string => typeof v === 'string' && v.length <= max;
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 1000 && v.every((x) => isStr(x, 256));

function isEndpoint(v: unknown): v is EndpointSettings {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return isStr(e.listen, 300) && (e.fqdn === null || isStr(e.fqdn, 253)) && isStr(e.certPem, 16384) && isStr(e.keyPem, 16384) && isStr(e.caPem, 16384);
}

function isUser(v: unknown): v is AccessUser {
  if (typeof v !== 'object' || v === null) return false;
  const u = v as Record<string, unknown>;
  const id = u.identity as Record<string, unknown> | null | undefined;
  return isStr(u.name, 128) && isStr(u.globalRole, 64) && typeof id === 'object' && id !== null && isStr(id.user, 256) && isStrArr(id.groups);
}

function isToken(v: unknown): v is AccessToken {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  return isStr(t.id, 64) && isStr(t.secretHash, 128) && /^[0-9a-f]{64}$/.test(t.secretHash) && isStr(t.user, 128) && isStr(t.idp, 64) &&
    (t.provider === undefined || isStr(t.provider, 64)) &&
    (t.expiresAt === null || (typeof t.expiresAt === 'number' && Number.isFinite(t.expiresAt)));
}

/** The set, or the reason it is refused (validated at the boundary: it comes over the tunnel). */
export function checkAccessSet(v: unknown): { ok: true; set: AccessSet } | { ok: false; reason: string } {
  if (typeof v !== 'object' || v === null) return { ok: false, reason: 'not an object' };
  const s = v as Record<string, unknown>;
  if (!isStr(s.revision, 128)) return { ok: false, reason: 'revision must be a string' };
  if (s.endpoint !== null && !isEndpoint(s.endpoint)) return { ok: false, reason: 'endpoint must be null or {listen, fqdn, certPem, keyPem, caPem}' };
  if (!Array.isArray(s.users) || s.users.length > MAX_ENTRIES || !s.users.every(isUser)) return { ok: false, reason: 'users: a list of {name, globalRole, identity}' };
  if (!Array.isArray(s.tokens) || s.tokens.length > MAX_ENTRIES || !s.tokens.every(isToken)) return { ok: false, reason: 'tokens: a list of {id, secretHash, user, idp, expiresAt}' };
  if (!isStrArr(s.droverGroups)) return { ok: false, reason: 'droverGroups: a list of group names' };
  const users = new Set((s.users as AccessUser[]).map((u) => u.name));
  const orphan = (s.tokens as AccessToken[]).find((t) => !users.has(t.user));
  if (orphan) return { ok: false, reason: `token ${orphan.id} names user ${orphan.user}, who is not in users` };
  return { ok: true, set: s as unknown as AccessSet };
}

/** `HOST:PORT` → host and port; `:PORT` listens on every address. Undefined when malformed. */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  if (!m) return undefined;
  const port = Number(m[3]);
  // 0: any free port (tests); the server only sends 1-65535 (endpoint-api.ts checkListen).
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
