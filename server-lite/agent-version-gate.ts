// Applies the agent support window (agent-version-window.ts) where agents meet the server:
// registration (the version in the body's facts), the tunnel upgrade (X-Drover-Agent-Version,
// sent by agents from 0.2.0 on) and, for older agents that send no header, the version in their
// protocol HELLO. A refusal is logged once per agent (or address) and version, not on every retry.
import type { Logger } from 'pino';
import { ServerError } from './errors.ts';
import { checkAgentVersion } from './agent-version-window.ts';

export const AGENT_VERSION_HEADER = 'x-drover-agent-version';

/** Refusals already logged, per logger (one per server): bounded so a flood cannot grow it. */
const logged = new WeakMap<Logger, Set<string>>();
const MAX_LOGGED = 10_000;

/** Undefined when the agent may proceed; otherwise the ServerError to answer with (logged once). */
export function agentVersionRefusal(log: Logger, serverVersion: string, agentVersion: string | undefined, who: { agentId?: string; remote?: string; where: 'register' | 'connect' | 'hello' }): ServerError | undefined {
  const verdict = checkAgentVersion(agentVersion, serverVersion);
  if (verdict.ok) return undefined;
  let seen = logged.get(log);
  if (seen === undefined) logged.set(log, (seen = new Set()));
  const key = `${who.agentId ?? who.remote ?? '?'}@${agentVersion ?? ''}`;
  if (!seen.has(key)) {
    if (seen.size >= MAX_LOGGED) seen.clear();
    seen.add(key);
    log.warn({ agentId: who.agentId, remote: who.remote, agentVersion, serverVersion, reason: verdict.reason, at: who.where }, verdict.message);
  }
  return new ServerError('AGENT_VERSION_UNSUPPORTED', verdict.message);
}

/** A single header value (the first when repeated), trimmed and bounded. */
export function headerVersion(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const t = v?.trim().slice(0, 64);
  return t === undefined || t === '' ? undefined : t;
}
