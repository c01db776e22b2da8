// Large manifest sets travel and rest as content-addressed blobs (issue 6: never one huge row, never
// over etcd's or a message's size limit). An index lists the chunk hashes in order; reassembly checks
// every chunk and the whole, so a missing or corrupt blob is an error, never a silently bad deploy.
// Equal chunks share one blob, so a revision that changes one object re-sends about one chunk.
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';
import { decodeManifestSet, encodeManifestSet, sha256, type ManifestSet } from './manifest-set.ts';

export interface ChunkRef {
  sha256: string;
  size: number;
}

export interface ChunkIndex {
  /** sha256 and size of the reassembled bytes. */
  sha256: string;
  size: number;
  chunks: ChunkRef[];
}

export interface Chunked {
  index: ChunkIndex;
  /** Blobs by sha256 (deduplicated). */
  blobs: Map<string, Buffer>;
}

export function chunkBytes(bytes: Uint8Array, chunkSize: number = FLEET_LIMITS.chunkBytes): Chunked {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blobs = new Map<string, Buffer>();
  const chunks: ChunkRef[] = [];
  for (let off = 0; off < buf.length; off += chunkSize) {
    // Copy: a blob must not pin (or alias) the whole input buffer.
    const piece = Buffer.from(buf.subarray(off, Math.min(off + chunkSize, buf.length)));
    const hash = sha256(piece);
    blobs.set(hash, piece);
    chunks.push({ sha256: hash, size: piece.length });
  }
  return { index: { sha256: sha256(buf), size: buf.length, chunks }, blobs };
}

export type BlobGetter = (sha256: string) => Uint8Array | undefined | Promise<Uint8Array | undefined>;

export async function reassembleBytes(index: ChunkIndex, get: BlobGetter): Promise<Buffer> {
  const declared = index.chunks.reduce((n, c) => n + c.size, 0);
  if (declared !== index.size) throw new FleetError('CHUNK_CORRUPT', `chunk sizes add up to ${declared}, the index says ${index.size}`);
  const out = Buffer.allocUnsafe(index.size);
  let off = 0;
  for (const [i, ref] of index.chunks.entries()) {
    const blob = await get(ref.sha256);
    if (blob === undefined) throw new FleetError('CHUNK_MISSING', `chunk ${i} (${ref.sha256}) is missing`);
    if (blob.byteLength !== ref.size || sha256(blob) !== ref.sha256) {
      throw new FleetError('CHUNK_CORRUPT', `chunk ${i} (${ref.sha256}) does not match its hash or size`);
    }
    out.set(blob, off);
    off += blob.byteLength;
  }
  if (sha256(out) !== index.sha256) throw new FleetError('CHUNK_CORRUPT', 'reassembled bytes do not match the index hash');
  return out;
}

export interface ChunkedManifestSet extends Chunked {
  revision: string;
}

export function chunkManifestSet(set: ManifestSet, chunkSize?: number): ChunkedManifestSet {
  return { revision: set.revision, ...chunkBytes(encodeManifestSet(set), chunkSize) };
}

/** Reassembles and verifies a set down to each object's hash; the revision must be the one asked for. */
export async function reassembleManifestSet(revision: string, index: ChunkIndex, get: BlobGetter): Promise<ManifestSet> {
  const set = decodeManifestSet(await reassembleBytes(index, get));
  if (set.revision !== revision) throw new FleetError('CHUNK_CORRUPT', `reassembled revision ${set.revision}, expected ${revision}`);
  return set;
}
