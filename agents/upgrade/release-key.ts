// The release public key this drover trusts (issue 16, decision 1000). In the executable it is
// the SEA asset written by `npm run package` (packaging/release-signing.ts): fixed at build time,
// no flag or variable can change it, so neither a server nor a local file can make an agent
// trust another key. Run from a checkout (tests, development) there is no asset: the key is the
// file named by DROVER_RELEASE_PUBLIC_KEY, else the build cache's development key.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as nodeSea from 'node:sea';

export const RELEASE_KEY_ASSET = 'release/public-key.pem';

export interface KeySource {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string | ArrayBuffer;
}

export function releasePublicKeyPem(env: NodeJS.ProcessEnv = process.env, sea: KeySource = nodeSea as KeySource): string | undefined {
  if (sea.isSea()) {
    try {
      const pem = sea.getAsset(RELEASE_KEY_ASSET, 'utf8');
      return typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
    } catch {
      return undefined;
    }
  }
  const file = env['DROVER_RELEASE_PUBLIC_KEY'] ?? path.join(env['DROVER_BUILD_CACHE'] ?? path.join(os.homedir(), '.cache', 'drover'), 'release-key', 'dev-ed25519.pub.pem');
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
