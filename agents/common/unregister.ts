// `drover agent unregister`: tell the server (so it marks the agent removed and closes its
// sessions) when it is reachable, then forget the identity locally either way: a device being
// decommissioned offline must still be able to drop its credential.
import type { Logger } from 'pino';
import { AgentError, describeError } from './errors.ts';
import { transportFor } from './https-client.ts';
import { unregister } from './server-api.ts';
import { AgentStore } from './store.ts';
import type { ProxyEnv } from './proxy-env.ts';

export interface UnregisterResult {
  agentId: string;
  /** False when the server could not be told (unreachable, or it no longer knew us). */
  serverNotified: boolean;
  serverError: string | null;
}

export async function unregisterAgent(dataDir: string, deps: { env: ProxyEnv; logger: Logger }): Promise<UnregisterResult> {
  const store = AgentStore.open(dataDir, { create: false });
  try {
    const id = store.requireIdentity(dataDir);
    const log = deps.logger.child({ agentId: id.agentId, server: id.serverUrl });
    let serverError: string | null = null;
    try {
      await unregister(id.serverUrl, id.caPem, transportFor(id.serverUrl, deps.env), id.credential);
      log.info('server marked the agent removed');
    } catch (err) {
      // A server that already revoked or forgot us agrees with the outcome; anything else is
      // reported, but local removal still goes ahead.
      serverError = describeError(err);
      const known = err instanceof AgentError && (err.code === 'CREDENTIAL_REVOKED' || err.code === 'CREDENTIAL_INVALID');
      log.warn({ err: serverError }, known ? 'server no longer knows this agent' : 'could not tell the server; removing the local identity anyway');
    }
    store.clearIdentity();
    return { agentId: id.agentId, serverNotified: serverError === null, serverError };
  } finally {
    store.close();
  }
}
