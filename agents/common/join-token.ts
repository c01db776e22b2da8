// Join token codec (ARCHITECTURE.md §3): `D10<sha256 hex of the CA's DER>::<tokenId>.<secret>`.
// Pure: parsing happens before any network I/O, so a mistyped token fails fast with exit 4
// and nothing is sent anywhere.
import { AgentError } from './errors.ts';

export const JOIN_TOKEN_PREFIX = 'D10';

export interface JoinToken {
  /** Lowercase hex sha256 of the server CA certificate's DER bytes. */
  caSha256: string;
  tokenId: string;
  secret: string;
  /** `<tokenId>.<secret>`: what POST /v1/register receives (never the CA hash part). */
  credential: string;
}

const TOKEN_RE = /^D10([0-9a-fA-F]{64})::([0-9a-z]{10})\.([A-Za-z0-9_\-]{32,256})$/;

export function parseJoinToken(raw: string): JoinToken {
  const match = TOKEN_RE.exec(raw.trim());
  if (!match) {
    throw new AgentError(
      'TOKEN_MALFORMED',
      'the join token is malformed: expected D10<64 hex chars>::<10-char id>.<secret> (check --token / DROVER_TOKEN)',
    );
  }
  const [, hash, tokenId, secret] = match as unknown as [string, string, string, string];
  return { caSha256: hash.toLowerCase(), tokenId, secret, credential: `${tokenId}.${secret}` };
}

/** Safe for logs: the token id only, never the secret. */
export function redactJoinToken(token: JoinToken): string {
  return `${JOIN_TOKEN_PREFIX}${token.caSha256.slice(0, 12)}…::${token.tokenId}.<redacted>`;
}
