// POST /v1/register: exchanges a join token for an agent identity. A label-scoped token creates a
// new cluster per registering device; a cluster-scoped token adds a node to that cluster.
import { z } from 'zod';
import { ServerError } from './errors.ts';
import { issueCredential } from './credentials.ts';
import {
  hashesEqual,
  hashSecret,
  newAgentId,
  newClusterId,
  newNodeId,
  parseTokenSecret,
  type RandomBytes,
} from './secrets.ts';
import { ROLES, type Store } from './store/store.ts';
import { labelsSchema, factsSchema } from './schemas.ts';

export const registerRequestSchema = z.object({
  token: z.string().max(256),
  name: z.string().min(1).max(63).optional(),
  labels: labelsSchema.optional(),
  roles: z.array(z.enum(ROLES)).min(1).max(ROLES.length),
  hostname: z.string().min(1).max(253),
  facts: factsSchema.optional(),
});
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export interface RegisterResponse {
  agentId: string;
  clusterId: string;
  nodeId: string;
  credential: string;
  credentialExpiresAt: string;
}

export interface RegistrationDeps {
  store: Store;
  random: RandomBytes;
  now: () => number;
}

export async function register(req: RegisterRequest, deps: RegistrationDeps): Promise<RegisterResponse> {
  const parts = parseTokenSecret(req.token);
  if (!parts) throw new ServerError('TOKEN_MALFORMED');
  const token = await deps.store.getToken(parts.tokenId);
  // A wrong secret looks exactly like an unknown id, so ids cannot be probed.
  if (!token || !hashesEqual(hashSecret(parts.secret), token.secretHash)) throw new ServerError('TOKEN_UNKNOWN');

  const now = deps.now();
  const agentId = newAgentId(deps.random);
  const nodeId = newNodeId(deps.random);
  const newCluster =
    token.clusterId === null
      ? {
          id: newClusterId(deps.random),
          name: req.name ?? req.hostname,
          // The admin's labels on the token win over what the device asks for.
          labels: { ...(req.labels ?? {}), ...token.labels },
          createdAt: now,
          kubernetesVersion: typeof req.facts?.kubernetesVersion === 'string' ? req.facts.kubernetesVersion : null,
        }
      : null;
  const clusterId = newCluster?.id ?? token.clusterId ?? '';
  const credential = issueCredential(agentId, deps.random, now);
  const roles = [...new Set(req.roles)];
  const outcome = await deps.store.enrol({
    tokenId: token.id,
    now,
    newCluster,
    node: { id: nodeId, clusterId, name: req.hostname, createdAt: now, facts: req.facts ?? {}, removedAt: null },
    agent: {
      id: agentId,
      clusterId,
      nodeId,
      hostname: req.hostname,
      roles,
      credentialHash: credential.hash,
      prevCredentialHash: null,
      credentialIssuedAt: credential.issuedAt,
      credentialExpiresAt: credential.expiresAt,
      createdAt: now,
      revokedAt: null,
      removedAt: null,
      lastSeen: null,
      facts: req.facts ?? {},
    },
  });
  if (!outcome.ok) throw new ServerError(outcome.reason);
  return {
    agentId,
    clusterId,
    nodeId,
    credential: credential.credential,
    credentialExpiresAt: new Date(credential.expiresAt).toISOString(),
  };
}
