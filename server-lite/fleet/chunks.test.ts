// Chunked manifest sets: content-addressed blobs, verified reassembly, 20 MiB round trip.
import t from 'tap';
import fc from 'fast-check';
import { chunkBytes, chunkManifestSet, reassembleBytes, reassembleManifestSet } from './chunks.ts';
import { normaliseManifests } from './manifest-set.ts';

/** ~20 MiB of ConfigMaps (210 of ~100 KiB), like the large bundle. */
function largeSet() {
  const objects = Array.from({ length: 210 }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${String(i).padStart(3, '0')}` },
    data: { blob: `${i}:`.padEnd(100 * 1024 + 200, String.fromCharCode(97 + (i % 26))) },
  }));
  return normaliseManifests(objects, { bundle: 'large' });
}

t.test('chunks: a 20 MiB manifest set round-trips through 1 MiB blobs with every hash checked', async (t) => {
  const set = largeSet();
  const chunked = chunkManifestSet(set);
  t.ok(chunked.index.size >= 20 * 1024 * 1024, `size ${chunked.index.size}`);
  t.ok(chunked.index.chunks.length >= 20);
  t.ok(chunked.index.chunks.every((c) => c.size <= 1024 * 1024));
  const back = await reassembleManifestSet(set.revision, chunked.index, (h) => chunked.blobs.get(h));
  t.equal(back.revision, set.revision);
  t.equal(back.objects.length, 210);
});

t.test('chunks: a missing blob is CHUNK_MISSING, a corrupt one CHUNK_CORRUPT, a wrong revision CHUNK_CORRUPT', async (t) => {
  const set = normaliseManifests([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { x: 'y'.repeat(5000) } }], { bundle: 'b' });
  const c = chunkManifestSet(set, 1000);
  const first = c.index.chunks[0]?.sha256 ?? '';
  await t.rejects(reassembleManifestSet(set.revision, c.index, (h) => (h === first ? undefined : c.blobs.get(h))), { code: 'CHUNK_MISSING' });
  await t.rejects(
    reassembleManifestSet(set.revision, c.index, (h) => {
      const b = Buffer.from(c.blobs.get(h) ?? Buffer.alloc(0));
      if (h === first) b[0] = (b[0] ?? 0) ^ 1;
      return b;
    }),
    { code: 'CHUNK_CORRUPT', message: /^chunk 0 / },
    'the corrupt chunk is named, not only the whole',
  );
  await t.rejects(reassembleManifestSet('0'.repeat(64), c.index, (h) => c.blobs.get(h)), { code: 'CHUNK_CORRUPT' });
  await t.rejects(reassembleBytes({ ...c.index, size: c.index.size + 1 }, (h) => c.blobs.get(h)), { code: 'CHUNK_CORRUPT' });
});

t.test('chunks: identical chunks are stored once', async (t) => {
  const c = chunkBytes(Buffer.alloc(10 * 1024, 7), 1024);
  t.equal(c.index.chunks.length, 10);
  t.equal(c.blobs.size, 1);
});

t.test('chunks: property: any bytes and chunk size round-trip exactly', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 700 }), async (bytes, size) => {
      const c = chunkBytes(bytes, size);
      const back = await reassembleBytes(c.index, (h) => c.blobs.get(h));
      return Buffer.compare(back, Buffer.from(bytes)) === 0 && c.index.chunks.every((x) => x.size <= size);
    }),
  );
});
