// The wire shapes of every throughput run (TCP, WebSocket, tunnel, and the Go program), pure:
// - sink (opener uploads): an 8-byte big-endian byte count, then that many bytes; the sink
//   answers one byte 'k' when it has them all, which stops the opener's clock.
// - source (opener downloads): the opener sends the 8-byte count; the source answers with that
//   many bytes, and the opener's clock stops at the last one.

export const ACK = Buffer.from('k');
export const HEADER_BYTES = 8;

export function encodeHeader(total: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeBigUInt64BE(BigInt(total));
  return b;
}

/** Collects the 8-byte count, which TCP may split across chunks. */
export class HeaderReader {
  #header = Buffer.alloc(0);
  #value = -1;

  /** The declared count, or -1 while incomplete. */
  get value(): number {
    return this.#value;
  }

  /** Feeds a chunk; returns the bytes after the header (empty while it is incomplete). */
  feed(chunk: Uint8Array): Uint8Array {
    if (this.#value >= 0) return chunk;
    const need = HEADER_BYTES - this.#header.length;
    this.#header = Buffer.concat([this.#header, chunk.subarray(0, need)]);
    if (this.#header.length === HEADER_BYTES) this.#value = Number(this.#header.readBigUInt64BE(0));
    return chunk.subarray(need);
  }
}

/** Counts what a sink receives; `feed` returns true once the declared count has arrived. */
export class SinkCounter {
  readonly #header = new HeaderReader();
  #received = 0;

  get received(): number {
    return this.#received;
  }

  get expected(): number {
    return this.#header.value;
  }

  feed(chunk: Uint8Array): boolean {
    const body = this.#header.feed(chunk);
    if (this.#header.value < 0) return false;
    this.#received += body.length;
    return this.#received >= this.#header.value;
  }
}

/** Sizes of the writes a source makes for `total` bytes in `chunkBytes` pieces. */
export function* pieces(total: number, chunkBytes: number): Generator<number> {
  for (let left = total; left > 0; left -= chunkBytes) yield Math.min(left, chunkBytes);
}

/** A reusable chunk of filler bytes for senders (content does not matter, size does). */
export function filler(size: number): Buffer {
  return Buffer.alloc(size, 0x5a);
}
