// Agent credentials: issue, authenticate, rotate (api.md "Credentials"). A credential is
// `<agentId>.<secret>`, stored as sha256. Credentials never expire while an agent is unreachable:
// expiry is enforced only by asking connected agents to rotate, so a device offline for a year
// can still come back (issue 4).
import { ServerError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { formatCredential, hashesEqual, hashSecret, newSecret, parseCredential, type RandomBytes } from './secrets.ts';
import type { AgentRecord, DeletedAgentRecord, Store } from './store/store.ts';

export interface IssuedCredential {
  credential: string;
  hash: string;
  issuedAt: number;
  expiresAt: number;
}

export function issueCredential(agentId: string, random: RandomBytes, now: number): IssuedCredential {
  const credential = formatCredential(agentId, newSecret(random));
  const secret = credential.slice(agentId.length + 1);
  return { credential, hash: hashSecret(secret), issuedAt: now, expiresAt: now + LIMITS.credentialLifetimeMs };
}

export interface Authenticated {
  agent: AgentRecord;
  /** 'previous': the rotated-out credential, accepted once and only for rotation. */
  via: 'current' | 'previous';
}

/**
 * Checks a Bearer credential. `allowPrevious` is set only by /v1/agent/rotate: the rotated-out
 * credential lets an agent that crashed between rotating and saving recover, once.
 */
export async function authenticate(
  value: string | undefined,
  store: Store,
  opts: { allowPrevious: boolean },
): Promise<Authenticated> {
  if (value === undefined) throw new ServerError('CREDENTIAL_MISSING');
  const parts = parseCredential(value);
  if (!parts) throw new ServerError('CREDENTIAL_INVALID');
  const agent = await store.getAgent(parts.agentId);
  if (!agent) {
    // An agent of a deleted cluster is told so (it has cleaning up to do), not that it is unknown.
    if (await authenticateDeleted(value, store).then(() => true, () => false)) throw new ServerError('CLUSTER_DELETED');
    throw new ServerError('CREDENTIAL_INVALID');
  }
  const hash = hashSecret(parts.secret);
  const current = hashesEqual(hash, agent.credentialHash);
  const previous = !current && agent.prevCredentialHash !== null && hashesEqual(hash, agent.prevCredentialHash);
  if (!current && !previous) throw new ServerError('CREDENTIAL_INVALID');
  // Checked after the secret matched, so a stranger learns nothing about revoked agents.
  if (agent.revokedAt !== null || agent.removedAt !== null) throw new ServerError('CREDENTIAL_REVOKED');
  if (previous) {
    if (!opts.allowPrevious) throw new ServerError('CREDENTIAL_SUPERSEDED');
    return { agent, via: 'previous' };
  }
  if (agent.prevCredentialHash !== null) {
    // The agent uses its new credential, so it saved it: the old one is no longer needed.
    await store.clearPrevCredential(agent.id);
  }
  return { agent, via: 'current' };
}

/** Rotates: the old credential is kept once for recovery, unless it was itself the recovery. */
export async function rotateCredential(
  auth: Authenticated,
  store: Store,
  random: RandomBytes,
  now: number,
): Promise<IssuedCredential> {
  const issued = issueCredential(auth.agent.id, random, now);
  const prevHash = auth.via === 'current' ? auth.agent.credentialHash : null;
  // Committed before the reply: from now on the agent relies on the new credential.
  await store.setCredential(auth.agent.id, { hash: issued.hash, prevHash, issuedAt: now, expiresAt: issued.expiresAt });
  return issued;
}

/** Past half its lifetime the server asks a connecting agent to rotate. */
export function shouldRotate(agent: AgentRecord, now: number): boolean {
  return now >= agent.credentialIssuedAt + (agent.credentialExpiresAt - agent.credentialIssuedAt) / 2;
}

/**
 * Checks the credential of an agent whose cluster was deleted (current or rotated-out one: it is
 * only good for reporting the clean-up). CREDENTIAL_INVALID for anything else.
 */
export async function authenticateDeleted(value: string | undefined, store: Store): Promise<DeletedAgentRecord> {
  if (value === undefined) throw new ServerError('CREDENTIAL_MISSING');
  const parts = parseCredential(value);
  if (!parts) throw new ServerError('CREDENTIAL_INVALID');
  const rec = await store.getDeletedAgent(parts.agentId);
  if (!rec) throw new ServerError('CREDENTIAL_INVALID');
  const hash = hashSecret(parts.secret);
  const ok = hashesEqual(hash, rec.credentialHash) || (rec.prevCredentialHash !== null && hashesEqual(hash, rec.prevCredentialHash));
  if (!ok) throw new ServerError('CREDENTIAL_INVALID');
  return rec;
}
