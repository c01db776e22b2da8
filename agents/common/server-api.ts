// The agent's REST calls against server-lite (contract in docs/api.md): GET /v1/ca,
// POST /v1/register, POST /v1/agent/rotate, POST /v1/agent/unregister, GET/POST /v1/agent/cleanup. Replies are validated
// with zod at this boundary; nothing past here sees unchecked JSON.
import crypto from 'node:crypto';
import * as z from 'zod';
import { AgentError } from './errors.ts';
import { httpsRequest, requestJson, type Transport } from './https-client.ts';
import type { Role } from './config.ts';

export interface FetchedCa {
  pem: string;
  /** Lowercase hex sha256 of the certificate's DER bytes (what join tokens carry). */
  sha256: string;
}

/** sha256 of the first certificate in a PEM, over its DER bytes. */
export function caFingerprint(pem: string): string {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(pem);
  } catch (err) {
    throw new AgentError('SERVER_ERROR', 'GET /v1/ca did not return a PEM certificate', { cause: err });
  }
  return crypto.createHash('sha256').update(cert.raw).digest('hex');
}

/** Unverified on purpose: the caller compares the fingerprint with the join token before trusting it. */
/**
 * `sha256`: the hash in the join token. A server that rotated its CA since the token was made still
 * answers with that CA while it vouches for the current one (issue 18, decision 0952); older servers
 * ignore the parameter.
 */
export async function fetchCa(server: string, transport: Transport, sha256?: string): Promise<FetchedCa> {
  const query = sha256 && /^[0-9a-f]{64}$/.test(sha256) ? `?sha256=${sha256}` : '';
  const res = await httpsRequest({ method: 'GET', url: `${server}/v1/ca${query}`, transport, ca: 'insecure' });
  if (res.status !== 200) throw new AgentError('SERVER_ERROR', `GET ${server}/v1/ca answered HTTP ${res.status}; is this a drover server?`);
  const pem = res.body.toString('utf8');
  return { pem, sha256: caFingerprint(pem) };
}

export interface RegisterRequest {
  token: string;
  name?: string | undefined;
  labels: Record<string, string>;
  roles: readonly Role[];
  hostname: string;
  facts: Record<string, unknown>;
}

const registerReply = z.object({
  agentId: z.string().min(1),
  clusterId: z.string().min(1),
  nodeId: z.string().min(1),
  credential: z.string().min(8),
  credentialExpiresAt: z.string().nullable().optional(),
});
export type RegisterReply = z.infer<typeof registerReply>;

const rotateReply = z.object({
  credential: z.string().min(8),
  credentialExpiresAt: z.string().nullable().optional(),
});
export type RotateReply = z.infer<typeof rotateReply>;

function parseReply<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AgentError('SERVER_ERROR', `${what}: unexpected reply (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

export async function register(server: string, ca: string, transport: Transport, req: RegisterRequest): Promise<RegisterReply> {
  const body = { ...req, ...(req.name === undefined ? {} : { name: req.name }) };
  const res = await requestJson({ method: 'POST', url: `${server}/v1/register`, transport, ca, json: body }, 'registration');
  return parseReply(registerReply, res.body, 'registration');
}

export async function rotate(server: string, ca: string, transport: Transport, credential: string): Promise<RotateReply> {
  const res = await requestJson({ method: 'POST', url: `${server}/v1/agent/rotate`, transport, ca, bearer: credential, json: {} }, 'credential rotation');
  return parseReply(rotateReply, res.body, 'credential rotation');
}

export async function unregister(server: string, ca: string, transport: Transport, credential: string): Promise<void> {
  await requestJson({ method: 'POST', url: `${server}/v1/agent/unregister`, transport, ca, bearer: credential, json: {} }, 'unregister');
}

const cleanupReply = z.object({
  clusterId: z.string(),
  clusterName: z.string(),
  deletedAt: z.string(),
  deletedBy: z.string(),
  keepWorkloads: z.boolean(),
  uninstallAgents: z.boolean(),
  roles: z.array(z.enum(['cluster', 'node', 'fleet'])),
  cleanedRoles: z.array(z.enum(['cluster', 'node', 'fleet'])),
});
export type CleanupOrder = z.infer<typeof cleanupReply>;

/** What to remove now that the cluster was deleted (only the deleted agent's credential is accepted). */
export async function fetchCleanup(server: string, ca: string, transport: Transport, credential: string): Promise<CleanupOrder> {
  const res = await requestJson({ method: 'GET', url: `${server}/v1/agent/cleanup`, transport, ca, bearer: credential }, 'clean-up order');
  return parseReply(cleanupReply, res.body, 'clean-up order');
}

/** Reports roles cleaned up; answers the roles still to do (by other processes of this agent). */
export async function reportCleaned(server: string, ca: string, transport: Transport, credential: string, roles: readonly Role[]): Promise<Role[]> {
  const res = await requestJson({ method: 'POST', url: `${server}/v1/agent/cleanup`, transport, ca, bearer: credential, json: { roles } }, 'clean-up report');
  return parseReply(z.object({ remainingRoles: z.array(z.enum(['cluster', 'node', 'fleet'])) }), res.body, 'clean-up report').remainingRoles;
}
