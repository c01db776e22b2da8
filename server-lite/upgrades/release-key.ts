// The release public key the server checks imports against: the same key, by the same rule, as the
// agents (protocol/release-key.ts).
import fs from 'node:fs';
import os from 'node:os';
import * as sea from 'node:sea';
import { releasePublicKey } from '../../protocol/release-key.ts';

export function serverReleasePublicKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return releasePublicKey({ isSea: sea.isSea, getAsset: (k, e) => sea.getAsset(k, e), readFile: (p) => fs.readFileSync(p, 'utf8'), homedir: os.homedir }, env);
}
