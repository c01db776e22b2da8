// The release public key the server checks imports against: the same key the agents trust
// (decision 1000). In the executable it is the SEA asset `release/public-key.pem`; from a
// checkout, DROVER_RELEASE_PUBLIC_KEY or the build cache's development key. (agents/upgrade/
// release-key.ts does the same for agents: server-lite may not import agents/.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as sea from 'node:sea';

export function serverReleasePublicKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (sea.isSea()) {
    try {
      return sea.getAsset('release/public-key.pem', 'utf8');
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
