// The one line that opens a peer link between replicas (issue 17), then raw stream bytes follow:
// the caller names the agent's tunnel and the stream it wants opened on it; the owning replica
// answers one line, `{"ok":true}` or a refusal with a code, before any stream byte. Pure codec.
import { ROLES, type Role } from '../store/store.ts';
import { MAX_PEER_HEADER_BYTES } from './limits.ts';

export const PEER_LINK_VERSION = 1;

export interface PeerOpen {
  v: typeof PEER_LINK_VERSION;
  op: 'open';
  agentId: string;
  role: Role;
  /** The session id the caller found in the database; the owner refuses if its tunnel is another. */
  sessionId?: string;
  target: string;
  metadata: Record<string, string>;
}

/** Wake-up hint: a cluster's syncs (RBAC) should run on the replica that holds its tunnel. */
export interface PeerKick {
  v: typeof PEER_LINK_VERSION;
  op: 'kick';
  clusterId: string;
}

/** Close an agent's tunnels on the replica holding them (revoked, deleted, unregistered elsewhere). */
export interface PeerClose {
  v: typeof PEER_LINK_VERSION;
  op: 'close';
  agentId: string;
  reason: PeerCloseReason;
}

/** The close reasons a peer may ask for (a subset of the registry's: never `superseded`, `shutdown`). */
export const PEER_CLOSE_REASONS = ['revoked', 'deleted'] as const;
export type PeerCloseReason = (typeof PEER_CLOSE_REASONS)[number];

export type PeerRequest = PeerOpen | PeerKick | PeerClose;

export type PeerAnswer = { ok: true } | { ok: false; code: 'NOT_HERE' | 'BAD_REQUEST'; message: string };

export class PeerHeaderError extends Error {
  override readonly name = 'PeerHeaderError';
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

export function encodeLine(value: PeerRequest | PeerAnswer): Buffer {
  return Buffer.from(`${JSON.stringify(value)}\n`);
}

/** Validates a request line (without its newline). */
export function parseRequest(line: string): PeerRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new PeerHeaderError('the peer link header is not JSON');
  }
  if (typeof v !== 'object' || v === null) throw new PeerHeaderError('the peer link header is not an object');
  const o = v as Record<string, unknown>;
  if (o.v !== PEER_LINK_VERSION) throw new PeerHeaderError(`peer link version ${String(o.v)} is not ${PEER_LINK_VERSION}`);
  if (o.op === 'kick') {
    if (typeof o.clusterId !== 'string' || o.clusterId === '') throw new PeerHeaderError('kick needs a clusterId');
    return { v: PEER_LINK_VERSION, op: 'kick', clusterId: o.clusterId };
  }
  if (o.op === 'close') {
    if (typeof o.agentId !== 'string' || o.agentId === '') throw new PeerHeaderError('close needs an agentId');
    if (!PEER_CLOSE_REASONS.includes(o.reason as PeerCloseReason)) throw new PeerHeaderError(`close needs a reason (${PEER_CLOSE_REASONS.join(', ')})`);
    return { v: PEER_LINK_VERSION, op: 'close', agentId: o.agentId, reason: o.reason as PeerCloseReason };
  }
  if (o.op !== 'open') throw new PeerHeaderError(`unknown peer link op ${String(o.op)}`);
  if (typeof o.agentId !== 'string' || o.agentId === '') throw new PeerHeaderError('open needs an agentId');
  if (!ROLES.includes(o.role as Role)) throw new PeerHeaderError(`open needs a role (${ROLES.join(', ')})`);
  if (typeof o.target !== 'string' || o.target === '') throw new PeerHeaderError('open needs a target');
  if (!isStringMap(o.metadata)) throw new PeerHeaderError('open metadata must map strings to strings');
  if (o.sessionId !== undefined && typeof o.sessionId !== 'string') throw new PeerHeaderError('sessionId must be a string');
  return {
    v: PEER_LINK_VERSION, op: 'open', agentId: o.agentId, role: o.role as Role, target: o.target, metadata: o.metadata,
    ...(typeof o.sessionId === 'string' ? { sessionId: o.sessionId } : {}),
  };
}

export function parseAnswer(line: string): PeerAnswer {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new PeerHeaderError('the peer answer is not JSON');
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.ok === true) return { ok: true };
  if (o.ok === false && (o.code === 'NOT_HERE' || o.code === 'BAD_REQUEST') && typeof o.message === 'string') return { ok: false, code: o.code, message: o.message };
  throw new PeerHeaderError('the peer answer is malformed');
}

/**
 * Accumulates bytes until the first newline: returns the line and what followed it, or undefined
 * while incomplete. Throws when the line outgrows MAX_PEER_HEADER_BYTES.
 */
export class LineReader {
  #chunks: Buffer[] = [];
  #size = 0;

  push(chunk: Buffer): { line: string; rest: Buffer } | undefined {
    const nl = chunk.indexOf(0x0a);
    if (nl < 0) {
      this.#size += chunk.length;
      if (this.#size > MAX_PEER_HEADER_BYTES) throw new PeerHeaderError(`peer link header longer than ${MAX_PEER_HEADER_BYTES} bytes`);
      this.#chunks.push(chunk);
      return undefined;
    }
    if (this.#size + nl > MAX_PEER_HEADER_BYTES) throw new PeerHeaderError(`peer link header longer than ${MAX_PEER_HEADER_BYTES} bytes`);
    const line = Buffer.concat([...this.#chunks, chunk.subarray(0, nl)]).toString('utf8');
    this.#chunks = [];
    this.#size = 0;
    return { line, rest: chunk.subarray(nl + 1) };
  }
}
