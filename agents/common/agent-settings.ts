// The `http:drover-agent` stream target every role serves (issue 18, docs/api.md): settings the
// server pushes to the whole agent over whichever tunnel of it is up, stored in the agent's database
// (shared by its role processes), so each role's next dial uses them:
// - `trust`: the server's CA bundle during and after a CA rotation (`drover server rotate-ca`);
// - `serverUrl`: a new server URL (`drover server set-url`), the current one kept as fallback until
//   `keepOldUntil`.
// `PUT /v1/agent/settings` answers only after the write is committed (synchronous=FULL).
import { X509Certificate, createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AgentStore } from './store.ts';
import { readBounded } from '../../protocol/index.ts';

export { AGENT_SETTINGS_TARGET } from '../../protocol/index.ts';
const MAX_BODY = 256 * 1024;

export interface AgentSettings {
  revision: string;
  trust?: { caPem: string } | undefined;
  serverUrl?: { url: string; keepOldUntil: string | null } | undefined;
}

/** The certificates of a PEM bundle; throws when one is not a CA certificate. */
export function bundleCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0 || blocks.length > 16) throw new Error('trust.caPem must hold 1-16 PEM certificates');
  return blocks.map((b) => {
    const c = new X509Certificate(b);
    if (!c.ca) throw new Error('trust.caPem holds a certificate that is not a CA');
    return c;
  });
}

export function checkSettings(v: unknown): AgentSettings {
  if (typeof v !== 'object' || v === null) throw new Error('settings must be an object');
  const s = v as Record<string, unknown>;
  if (typeof s.revision !== 'string' || s.revision.length > 128) throw new Error('revision must be a string');
  const out: AgentSettings = { revision: s.revision };
  if (s.trust !== undefined) {
    const caPem = (s.trust as { caPem?: unknown } | null)?.caPem;
    if (typeof caPem !== 'string') throw new Error('trust.caPem must be a PEM string');
    bundleCertificates(caPem);
    out.trust = { caPem };
  }
  if (s.serverUrl !== undefined) {
    const u = s.serverUrl as { url?: unknown; keepOldUntil?: unknown } | null;
    if (typeof u?.url !== 'string' || !/^https:\/\/[^/\s]+\/?$/.test(u.url)) throw new Error('serverUrl.url must be https://HOST[:PORT]');
    if (u.keepOldUntil !== null && (typeof u.keepOldUntil !== 'string' || !Number.isFinite(Date.parse(u.keepOldUntil)))) throw new Error('serverUrl.keepOldUntil must be a time or null');
    out.serverUrl = { url: u.url.replace(/\/$/, ''), keepOldUntil: u.keepOldUntil };
  }
  return out;
}

/** Applies settings to the store; returns what changed (for the log). */
export function applySettings(store: AgentStore, s: AgentSettings): string[] {
  const id = store.getIdentity();
  if (!id) throw new Error('this agent is not registered');
  const changed: string[] = [];
  if (s.trust && s.trust.caPem !== id.caPem) {
    const first = bundleCertificates(s.trust.caPem)[0] as X509Certificate;
    store.saveTrust(s.trust.caPem, createHash('sha256').update(first.raw).digest('hex'));
    changed.push('trust');
  }
  if (s.serverUrl && s.serverUrl.url !== id.serverUrl) {
    // The URL that works today stays as fallback through the overlap.
    store.saveServerUrl(s.serverUrl.url, s.serverUrl.keepOldUntil ? id.serverUrl : null, s.serverUrl.keepOldUntil);
    changed.push('serverUrl');
  }
  return changed;
}

export function agentSettingsHandler(store: AgentStore, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'PUT' || req.url !== '/v1/agent/settings') {
      req.resume();
      send(404, { error: { code: 'NOT_FOUND', message: 'PUT /v1/agent/settings only' } });
      return;
    }
    void (async () => {
      try {
        const settings = checkSettings(JSON.parse((await readBounded(req, MAX_BODY, 'body')).toString('utf8')));
        const changed = applySettings(store, settings);
        if (changed.length > 0) log.info({ revision: settings.revision, changed, serverUrl: settings.serverUrl?.url }, 'agent settings from the server applied');
        send(200, { revision: settings.revision, changed });
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'agent settings refused');
        send(400, { error: { code: 'BAD_SETTINGS', message: (err as Error).message } });
      }
    })();
  };
}
