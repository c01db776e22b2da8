// Unit tests for what the executable hands to the download endpoints.
import t from 'tap';
import { embeddedDownloads } from './embedded.ts';

const bytes = new TextEncoder().encode('#!/bin/sh\n');

t.test('embedded: outside the executable nothing is embedded', async (t) => {
  t.same(embeddedDownloads({ isSea: () => false, getAsset: () => new ArrayBuffer(0) }, { arch: 'x64', execPath: '/x' }), {});
});

t.test('embedded: the executable offers its install.sh and itself under our architecture name', async (t) => {
  const sea = { isSea: () => true, getAsset: (k: string) => (k === 'install.sh' ? bytes.buffer : new ArrayBuffer(0)) };
  const out = embeddedDownloads(sea, { arch: 'arm64', execPath: '/usr/local/bin/drover' });
  t.same(out.self, { arch: 'arm64', path: '/usr/local/bin/drover' });
  t.equal(new TextDecoder().decode(out.installScriptBytes), '#!/bin/sh\n');
  t.same(embeddedDownloads(sea, { arch: 'x64', execPath: '/d' }).self, { arch: 'amd64', path: '/d' });
});

t.test('embedded: an unknown CPU is not offered, and a missing asset is tolerated', async (t) => {
  const sea = {
    isSea: () => true,
    getAsset: (): ArrayBuffer => {
      throw new Error('no asset');
    },
  };
  t.same(embeddedDownloads(sea, { arch: 'riscv64', execPath: '/d' }), {});
});
