import t from 'tap';
import { RELEASE_KEY_ASSET, releasePublicKey, type ReleaseKeySource } from './release-key.ts';

const files: Record<string, string> = { '/home/u/.cache/drover/release-key/dev-ed25519.pub.pem': 'DEV', '/keys/pub.pem': 'ENV', '/c/release-key/dev-ed25519.pub.pem': 'CACHE' };
const src = (sea: boolean, assets: Record<string, string> = {}): ReleaseKeySource => ({
  isSea: () => sea,
  getAsset: (k) => {
    const a = assets[k];
    if (a === undefined) throw new Error(`no asset ${k}`);
    return new TextEncoder().encode(a).buffer;
  },
  readFile: (p) => {
    const f = files[p];
    if (f === undefined) throw new Error(`ENOENT ${p}`);
    return f;
  },
  homedir: () => '/home/u',
});

t.test('release key: the executable trusts only its embedded asset; a checkout the named file or the development key', async (t) => {
  t.equal(releasePublicKey(src(true, { [RELEASE_KEY_ASSET]: 'EMBEDDED' }), { DROVER_RELEASE_PUBLIC_KEY: '/keys/pub.pem' }), 'EMBEDDED', 'no variable overrides the embedded key');
  t.equal(releasePublicKey(src(true), {}), undefined, 'an executable without the asset trusts nothing');
  t.equal(releasePublicKey(src(false), { DROVER_RELEASE_PUBLIC_KEY: '/keys/pub.pem' }), 'ENV');
  t.equal(releasePublicKey(src(false), { DROVER_BUILD_CACHE: '/c' }), 'CACHE');
  t.equal(releasePublicKey(src(false), {}), 'DEV');
  t.equal(releasePublicKey(src(false), { DROVER_RELEASE_PUBLIC_KEY: '/missing' }), undefined);
});
