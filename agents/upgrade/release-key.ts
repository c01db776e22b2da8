// The release public key this agent trusts (protocol/release-key.ts has the rule): the SEA asset in
// the executable, so neither a server nor a local file can make an agent trust another key.
import fs from 'node:fs';
import os from 'node:os';
import * as nodeSea from 'node:sea';
import { releasePublicKey } from '../../protocol/release-key.ts';

export function releasePublicKeyPem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return releasePublicKey({ isSea: nodeSea.isSea, getAsset: (k, e) => nodeSea.getAsset(k, e), readFile: (p) => fs.readFileSync(p, 'utf8'), homedir: os.homedir }, env);
}
