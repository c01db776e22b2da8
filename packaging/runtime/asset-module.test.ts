// The asset bundles travel brotli-compressed (packaging/build.ts, decision 1140): requireAsset
// inflates one in place, evaluates it once like require(), and names a missing asset.
import t from 'tap';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { requireAsset } from './asset-module.ts';

// Inside the executable the asset gets the SEA main's require; here, this module's.
(globalThis as { require?: NodeJS.Require }).require = createRequire(import.meta.url);

const brotli = (text: string): ArrayBuffer => {
  const b = zlib.brotliCompressSync(Buffer.from(text));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

t.test('a compressed asset is inflated, evaluated once, and its exports returned', async (t) => {
  let reads = 0;
  const sea = {
    isSea: () => true,
    getRawAsset: (name: string): ArrayBuffer => {
      reads++;
      if (name !== 'app/test-a.cjs') throw new Error('no such asset');
      return brotli(`globalThis.__assetRuns = (globalThis.__assetRuns ?? 0) + 1; module.exports = { answer: 42, path: require('node:path').sep };`);
    },
  };
  t.same(requireAsset('app/test-a.cjs', sea), { answer: 42, path: '/' });
  t.same(requireAsset('app/test-a.cjs', sea), { answer: 42, path: '/' });
  t.equal(reads, 1, 'read and evaluated once per process');
  t.equal((globalThis as { __assetRuns?: number }).__assetRuns, 1);
});

t.test('a missing asset and a checkout are refused with BUNDLED_MODULE_MISSING', async (t) => {
  const missing = { isSea: () => true, getRawAsset: (): ArrayBuffer => { throw new Error('no such asset'); } };
  t.throws(() => requireAsset('app/none.cjs', missing), { code: 'BUNDLED_MODULE_MISSING', message: /carries no app\/none\.cjs/ });
  t.throws(() => requireAsset('app/none.cjs', { isSea: () => false, getRawAsset: () => new ArrayBuffer(0) }), { code: 'BUNDLED_MODULE_MISSING' });
});
