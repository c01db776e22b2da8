// Who made a request, for the audit row, whatever kind of caller it was: a user or the admin token
// (guard.ts resolves those) or an agent authenticated by its credential, named `agent:<agentId>`
// with the identity provider `agent-credential` (issue 14: agent calls were audited as anonymous).
import type { IncomingMessage } from 'node:http';
import { principalSeen } from './guard.ts';

export interface Caller {
  user: string;
  idp: string;
  /** The identity provider's name for LDAP/OIDC users (issue 18). */
  provider?: string;
}

export const AGENT_IDP = 'agent-credential';
export const ANONYMOUS: Readonly<Caller> = Object.freeze({ user: 'anonymous', idp: 'none' });

const agents = new WeakMap<IncomingMessage, string>();

export const agentUser = (agentId: string): string => `agent:${agentId}`;

/** The request was made (or, for registration, answered) as this agent. */
export function rememberAgent(req: IncomingMessage, agentId: string): void {
  agents.set(req, agentId);
}

/** The caller to audit: the user principal if one was resolved, else the agent, else anonymous. */
export function callerOf(req: IncomingMessage): Caller {
  const p = principalSeen(req);
  if (p) return { user: p.user, idp: p.idp, ...(p.provider ? { provider: p.provider } : {}) };
  const agentId = agents.get(req);
  return agentId === undefined ? ANONYMOUS : { user: agentUser(agentId), idp: AGENT_IDP };
}
