// Join tokens, agent credentials and ids: their formats, generation and hashing (api.md "Join token").
// Pure apart from the injected random source. Secrets are high-entropy, so one sha256 is enough
// to store them (no password-hashing KDF needed); comparisons are constant-time.
import { createHash, timingSafeEqual } from 'node:crypto';

export type RandomBytes = (size: number) => Buffer;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `length` lowercase base32 characters from the random source. */
export function randomId(random: RandomBytes, length: number): string {
  const bytes = random(length);
  let out = '';
  for (let i = 0; i < length; i++) out += BASE32[(bytes[i] ?? 0) & 31];
  return out;
}

export const TOKEN_ID_LENGTH = 10;
export const SECRET_LENGTH = 40;
export const JOIN_TOKEN_PREFIX = 'D10';

const TOKEN_ID = /^[a-z0-9]{10}$/;
const SECRET = /^[A-Za-z0-9_-]{32,128}$/;
const AGENT_ID = /^a-[a-z0-9]{10,32}$/;

export const newTokenId = (random: RandomBytes): string => randomId(random, TOKEN_ID_LENGTH);
export const newSecret = (random: RandomBytes): string => randomId(random, SECRET_LENGTH);
export const newClusterId = (random: RandomBytes): string => `c-${randomId(random, 10)}`;
export const newNodeId = (random: RandomBytes): string => `n-${randomId(random, 10)}`;
export const newAgentId = (random: RandomBytes): string => `a-${randomId(random, 10)}`;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The full join token: `D10<ca sha256 hex>::<tokenId>.<secret>` (ARCHITECTURE.md §3). */
export function formatJoinToken(caHash: string, tokenId: string, secret: string): string {
  return `${JOIN_TOKEN_PREFIX}${caHash}::${tokenId}.${secret}`;
}

export interface TokenParts {
  tokenId: string;
  secret: string;
}

/** Parses the `<tokenId>.<secret>` part that agents send to /v1/register; undefined if malformed. */
export function parseTokenSecret(value: string): TokenParts | undefined {
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const tokenId = value.slice(0, dot);
  const secret = value.slice(dot + 1);
  return TOKEN_ID.test(tokenId) && SECRET.test(secret) ? { tokenId, secret } : undefined;
}

export interface CredentialParts {
  agentId: string;
  secret: string;
}

export function formatCredential(agentId: string, secret: string): string {
  return `${agentId}.${secret}`;
}

/** Parses `<agentId>.<secret>` from a Bearer header value; undefined if malformed. */
export function parseCredential(value: string): CredentialParts | undefined {
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const agentId = value.slice(0, dot);
  const secret = value.slice(dot + 1);
  return AGENT_ID.test(agentId) && SECRET.test(secret) ? { agentId, secret } : undefined;
}

/** Extracts the token from `Authorization: Bearer <token>`; undefined if absent or another scheme. */
export function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
