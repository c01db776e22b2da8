// The byte protocol of a remote shell (issue 15; docs/shell.md): inside the node agent's
// `drover-shell` stream, and unchanged on the CLI's upgraded connection to the server, which
// relays it and reads it only to audit (exit code, bytes). Each frame is
// [type u8][length u32 big-endian][payload]; payloads are at most MAX_SHELL_FRAME bytes. Pure.
import { Buffer } from 'node:buffer';
import { NODE_AGENT_TARGETS } from './cluster-targets.ts';

export const SHELL_FRAME = Object.freeze({
  /** client → node: bytes for the command's stdin (in a TTY, Ctrl-C is the byte 0x03). */
  stdin: 1,
  /** node → client: the command's output (in a TTY, stdout and stderr both come as stdout). */
  stdout: 2,
  /** node → client: stderr when there is no TTY. */
  stderr: 3,
  /** client → node: the window changed, payload rows u16, cols u16. */
  resize: 4,
  /** client → node: deliver a signal to the command's process group (no TTY), payload its name (`INT`). */
  signal: 5,
  /** client → node: no more stdin. */
  eof: 6,
  /** node → client: the command ended, payload exit code i32 (128 + n when killed by signal n). Last frame. */
  exit: 7,
  /** node → client: the shell could not start or failed, payload a UTF-8 message. Last frame. */
  error: 8,
} as const);

export type ShellFrameType = (typeof SHELL_FRAME)[keyof typeof SHELL_FRAME];

/** Largest payload: a frame is bounded, so neither side buffers more than this for one. */
export const MAX_SHELL_FRAME = 64 * 1024;
const HEADER = 5;
const KNOWN = new Set<number>(Object.values(SHELL_FRAME));

/** The stream target a node agent serves shells on; OPEN metadata carries SHELL_METADATA. */
export const SHELL_TARGET = NODE_AGENT_TARGETS.shell;

/** OPEN metadata of a shell stream (set by the server, never by the client directly). */
export const SHELL_METADATA = Object.freeze({
  /** JSON array of strings: the command's argv; empty for the login shell. */
  command: 'command',
  /** `1`: run in a pseudo-terminal; `0`: plain pipes. */
  tty: 'tty',
  rows: 'rows',
  cols: 'cols',
  term: 'term',
  /** The Drover user the server admitted (for the node's log). */
  user: 'drover-user',
} as const);

export interface ShellFrame {
  type: ShellFrameType;
  payload: Buffer;
}

export function encodeShellFrame(type: ShellFrameType, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (payload.length > MAX_SHELL_FRAME) throw new RangeError(`shell frame payload ${payload.length} > ${MAX_SHELL_FRAME}`);
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt8(type, 0);
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, HEADER);
  return out;
}

/** Data split into frames of at most MAX_SHELL_FRAME bytes. */
export function encodeShellData(type: typeof SHELL_FRAME.stdin | typeof SHELL_FRAME.stdout | typeof SHELL_FRAME.stderr, data: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += MAX_SHELL_FRAME) out.push(encodeShellFrame(type, data.subarray(i, i + MAX_SHELL_FRAME)));
  return out;
}

export const resizeFrame = (rows: number, cols: number): Buffer => {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(clampSize(rows), 0);
  p.writeUInt16BE(clampSize(cols), 2);
  return encodeShellFrame(SHELL_FRAME.resize, p);
};

export const exitFrame = (code: number): Buffer => {
  const p = Buffer.alloc(4);
  p.writeInt32BE(code, 0);
  return encodeShellFrame(SHELL_FRAME.exit, p);
};

export function clampSize(n: number): number {
  return Number.isInteger(n) && n > 0 ? Math.min(n, 0xffff) : 0;
}

export function readResize(payload: Buffer): { rows: number; cols: number } | undefined {
  return payload.length === 4 ? { rows: payload.readUInt16BE(0), cols: payload.readUInt16BE(2) } : undefined;
}

export function readExit(payload: Buffer): number | undefined {
  return payload.length === 4 ? payload.readInt32BE(0) : undefined;
}

/** Incremental decoder: feed it chunks as they arrive, get whole frames. Throws on a bad frame. */
export class ShellFrameDecoder {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): ShellFrame[] {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const out: ShellFrame[] = [];
    while (this.#buf.length >= HEADER) {
      const type = this.#buf.readUInt8(0);
      const len = this.#buf.readUInt32BE(1);
      if (!KNOWN.has(type)) throw new Error(`unknown shell frame type ${type}`);
      if (len > MAX_SHELL_FRAME) throw new Error(`shell frame of ${len} bytes is larger than ${MAX_SHELL_FRAME}`);
      if (this.#buf.length < HEADER + len) break;
      out.push({ type: type as ShellFrameType, payload: this.#buf.subarray(HEADER, HEADER + len) });
      this.#buf = this.#buf.subarray(HEADER + len);
    }
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.#buf.length;
  }
}
