// The last row of DIR/audit.log (the JSON-lines copy of the chain), read from the file's end
// without loading it whole. `audit verify` compares it with the store's newest row: the chain alone
// cannot reveal that its newest rows were deleted, but the log still names them.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Bytes read from the end; one JSON line is far smaller (paths are bounded by the request head). */
const TAIL_BYTES = 128 * 1024;

export function lastLogRow(file: string): { seq: number; hash: string } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').trimEnd().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const row = JSON.parse(lines[i] ?? '') as { seq?: unknown; hash?: unknown };
        if (typeof row.seq === 'number' && typeof row.hash === 'string') return { seq: row.seq, hash: row.hash };
      } catch {
        // A torn last line (crash mid-append): look at the one before.
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
