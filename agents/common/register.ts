// `drover agent register`: join token → pinned CA → agent identity in the local store.
// Order matters (ARCHITECTURE.md §2.1, issue 4): the token is parsed and the CA's fingerprint
// compared with the token BEFORE the secret leaves the device, and nothing is written to disk
// until the server has accepted the token.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AgentError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { parseJoinToken, redactJoinToken } from './join-token.ts';
import { fetchCa, register } from './server-api.ts';
import { transportFor } from './https-client.ts';
import { describeProxy, type ProxyEnv } from './proxy-env.ts';
import { AgentStore, DB_FILE, type Identity } from './store.ts';
import { baseFacts, type Facts } from './facts.ts';
import type { RegisterConfig } from './config.ts';

export interface RegisterDeps {
  env: ProxyEnv;
  logger: Logger;
  now: () => Date;
  random: () => number;
  /** Waits between OVERLOADED retries; injectable so tests need not sleep. */
  sleep: (ms: number) => Promise<void>;
  facts: Facts;
}

export function defaultRegisterDeps(logger: Logger, agentVersion: string): RegisterDeps {
  return {
    env: process.env,
    logger,
    now: () => new Date(),
    random: Math.random,
    sleep: (ms) => sleep(ms),
    facts: baseFacts(agentVersion),
  };
}

function existingIdentity(dataDir: string): boolean {
  if (!fs.existsSync(path.join(dataDir, DB_FILE))) return false;
  const store = AgentStore.open(dataDir, { create: false });
  try {
    return store.getIdentity() !== undefined;
  } finally {
    store.close();
  }
}

export async function registerAgent(cfg: RegisterConfig, deps: RegisterDeps): Promise<Identity> {
  const token = parseJoinToken(cfg.token);
  if (existingIdentity(cfg.dataDir)) {
    throw new AgentError('ALREADY_REGISTERED', `${cfg.dataDir} already holds an agent identity; run \`drover agent unregister --data-dir ${cfg.dataDir}\` first`);
  }
  const transport = transportFor(cfg.server, deps.env);
  const log = deps.logger.child({ server: cfg.server, joinToken: redactJoinToken(token), proxy: describeProxy(transport.proxy) });

  const ca = await fetchCa(cfg.server, transport, token.caSha256);
  if (ca.sha256 !== token.caSha256) {
    log.error({ expected: token.caSha256, got: ca.sha256 }, 'server CA does not match the join token; nothing was sent');
    throw new AgentError(
      'CA_MISMATCH',
      `the server's CA (sha256 ${ca.sha256}) does not match the join token (sha256 ${token.caSha256}); the token was not sent. Check --server, or create a new token on this server`,
    );
  }
  log.info({ caSha256: ca.sha256 }, 'server CA matches the join token');

  const request = {
    token: token.credential,
    name: cfg.name,
    labels: { ...cfg.labels },
    roles: cfg.roles,
    hostname: deps.facts.hostname,
    facts: { ...deps.facts },
  };
  let reply;
  for (let attempt = 1; ; attempt++) {
    try {
      reply = await register(cfg.server, ca.pem, transport, request);
      break;
    } catch (err) {
      const retryable = err instanceof AgentError && err.code === 'OVERLOADED' && attempt < LIMITS.registerMaxAttempts;
      if (!retryable) throw err;
      // Full jitter on top of the server's hint so a thousand devices do not retry in lockstep.
      const wait = (err.retryAfterMs ?? 1000) + Math.floor(deps.random() * 1000 * attempt);
      log.warn({ attempt, waitMs: wait }, 'server overloaded; retrying registration');
      await deps.sleep(wait);
    }
  }

  const identity: Identity = {
    serverUrl: cfg.server,
    caPem: ca.pem,
    caSha256: ca.sha256,
    agentId: reply.agentId,
    clusterId: reply.clusterId,
    nodeId: reply.nodeId,
    credential: reply.credential,
    credentialIssuedAt: deps.now().toISOString(),
    credentialExpiresAt: reply.credentialExpiresAt ?? null,
    name: cfg.name ?? null,
    labels: { ...cfg.labels },
    kubeconfig: cfg.kubeconfig ?? null,
    roles: [...cfg.roles],
    registeredAt: deps.now().toISOString(),
  };
  const store = AgentStore.open(cfg.dataDir, { create: true });
  try {
    store.saveIdentity(identity);
  } finally {
    store.close();
  }
  log.info({ agentId: identity.agentId, clusterId: identity.clusterId, nodeId: identity.nodeId }, 'registered');
  return identity;
}
