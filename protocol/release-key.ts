// Where a drover finds the release public key it trusts (issue 16, decision 1000): one rule for
// the agents, the server and the packaging that embeds it. In the executable it is the SEA asset
// written by `npm run package`, fixed at build time; run from a checkout (tests, development) it is
// the file named by DROVER_RELEASE_PUBLIC_KEY, else the build cache's development key. Pure: the
// caller passes the SEA and file access.

/** SEA asset holding the release public key (PEM, SPKI). */
export const RELEASE_KEY_ASSET = 'release/public-key.pem';
/** The development key pair's public half, in `<build cache>/release-key/`. */
export const DEV_PUBLIC_KEY_FILE = 'dev-ed25519.pub.pem';

export interface ReleaseKeySource {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string | ArrayBuffer;
  readFile(path: string): string;
  homedir(): string;
}

/** The trusted key as PEM, or undefined when there is none (a checkout without a development key). */
export function releasePublicKey(src: ReleaseKeySource, env: Readonly<Record<string, string | undefined>>): string | undefined {
  try {
    if (src.isSea()) {
      const pem = src.getAsset(RELEASE_KEY_ASSET, 'utf8');
      return typeof pem === 'string' ? pem : new TextDecoder().decode(pem);
    }
    const cache = env['DROVER_BUILD_CACHE'] ?? `${src.homedir()}/.cache/drover`;
    return src.readFile(env['DROVER_RELEASE_PUBLIC_KEY'] ?? `${cache}/release-key/${DEV_PUBLIC_KEY_FILE}`);
  } catch {
    return undefined;
  }
}
