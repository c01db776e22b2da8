// The one size-bounded body reader of the project (issue 13): the server's request bodies, the
// agents' stream endpoints, the server's reads of agents' answers, and the CLI's reads of the
// server's answers all collect a byte stream through it. Past `limit` it stops collecting and
// throws BodyTooLarge; each caller maps that to its own error (413, exit code…). No I/O of its
// own: it consumes the stream it is given.
import { Buffer } from 'node:buffer';

export class BodyTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number, what = 'request body') {
    super(`${what} over ${limit} bytes`);
    this.name = 'BodyTooLarge';
    this.limit = limit;
  }
}

/** All bytes of `source`, at most `limit` of them; more throws BodyTooLarge (`what` names the body). */
export async function readBounded(source: AsyncIterable<Uint8Array | string>, limit: number, what?: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += b.length;
    if (size > limit) throw new BodyTooLarge(limit, what);
    chunks.push(b);
  }
  return chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size);
}
