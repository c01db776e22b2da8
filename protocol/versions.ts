// Protocol versions this build speaks. The WebSocket subprotocol names the major version
// (`drover.v1`); the minor version and capabilities travel in the HELLO exchange (SPEC.md).
import { Buffer } from 'node:buffer';

/** Major versions this build accepts, newest first. The server keeps the previous major too. */
export const SUPPORTED_MAJORS: readonly number[] = Object.freeze([1]);

/** Minor version of the newest major that this build implements. */
export const CURRENT_MINOR = 2;

export const SUBPROTOCOL_PREFIX = 'drover.v';

/** The WebSocket subprotocol token for a major version, e.g. `drover.v1`. */
export function subprotocolFor(major: number): string {
  return `${SUBPROTOCOL_PREFIX}${major}`;
}

/** Human-readable versions for `drover version`, e.g. `["1.1"]`. */
export function describeVersions(): string[] {
  return SUPPORTED_MAJORS.map((major, i) => (i === 0 ? `${major}.${CURRENT_MINOR}` : `${major}`));
}

/** The subprotocols a client offers, newest major first (`Sec-WebSocket-Protocol`). */
export function offeredSubprotocols(majors: readonly number[] = SUPPORTED_MAJORS): string[] {
  return majors.map(subprotocolFor);
}

/** The major version named by a subprotocol token, or undefined if it is not ours. */
export function majorFromSubprotocol(token: string): number | undefined {
  if (!token.startsWith(SUBPROTOCOL_PREFIX)) return undefined;
  const digits = token.slice(SUBPROTOCOL_PREFIX.length);
  if (!/^[1-9][0-9]{0,4}$/.test(digits)) return undefined;
  return Number(digits);
}

/** Splits a `Sec-WebSocket-Protocol` header value (or takes a list / Set as `ws` gives it). */
export function parseOfferedSubprotocols(offered: string | Iterable<string> | undefined): string[] {
  if (offered === undefined) return [];
  const items = typeof offered === 'string' ? offered.split(',') : [...offered];
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Server side of negotiation: the subprotocol to accept from what the client offered, preferring
 * the newest major we support; undefined when none matches (then refuse with `versionRefusal`).
 */
export function selectSubprotocol(offered: string | Iterable<string> | undefined, majors: readonly number[] = SUPPORTED_MAJORS): string | undefined {
  const offeredMajors = new Set(parseOfferedSubprotocols(offered).map(majorFromSubprotocol));
  const best = majors.find((m) => offeredMajors.has(m));
  return best === undefined ? undefined : subprotocolFor(best);
}

/** The refusal for a client with no major in common: HTTP 400 before the upgrade, or close code
 *  4000 after it. The message always lists what this side supports. */
export interface VersionRefusal {
  status: 400;
  closeCode: 4000;
  code: 'UNSUPPORTED_VERSION';
  /** Fits a WebSocket close reason (≤ 123 bytes). */
  message: string;
  supported: string[];
  /** `{"error":{"code","message","supported"}}` as the HTTP API shapes errors. */
  body: string;
  /** A complete raw HTTP/1.1 400 response, for writing to the socket of a refused upgrade. */
  httpResponse: string;
}

export function versionRefusal(offered: string | Iterable<string> | undefined, majors: readonly number[] = SUPPORTED_MAJORS): VersionRefusal {
  const supported = offeredSubprotocols(majors);
  const got = parseOfferedSubprotocols(offered);
  const message = `unsupported protocol version ${got.length > 0 ? got.join(',') : '(none offered)'}; supported: ${supported.join(', ')}`.slice(0, 123);
  const body = JSON.stringify({ error: { code: 'UNSUPPORTED_VERSION', message, supported } });
  const httpResponse =
    'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n' +
    `X-Drover-Supported-Protocols: ${supported.join(', ')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return { status: 400, closeCode: 4000, code: 'UNSUPPORTED_VERSION', message, supported, body, httpResponse };
}
