// Files of issue 18's work that a server backup must carry (server-lite/backup/server-backup.ts):
// the CA rotation's state (signer, chain, next CA, retired CAs), local endpoint settings and their
// per-cluster CAs and certificates, and a server URL change. Without them a restored server would
// re-issue its leaf from the new CA without the cross-signed chain (stranding agents that pinned the
// old CA) and make new endpoint CAs (breaking every `CLUSTER-local` kubeconfig).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const FIXED = [
  'tls/chain.crt', 'tls/signer.crt', 'tls/signer.key', 'tls/ca-next.crt', 'tls/ca-next.key', 'tls/cross-next.crt',
  'tls/rotation.json', 'access/endpoints.json', 'access/server-url.json',
];

/** Paths relative to the data dir, of the files that exist now. */
export function accessBackupFiles(dataDir: string): string[] {
  const out = FIXED.filter((rel) => existsSync(join(dataDir, rel)));
  const under = (rel: string, depth: number): void => {
    const dir = join(dataDir, rel);
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const child = `${rel}/${name}`;
      const st = statSync(join(dataDir, child));
      if (st.isDirectory() && depth > 0) under(child, depth - 1);
      else if (st.isFile() && /\.(crt|key)$/.test(name)) out.push(child);
    }
  };
  under('tls/retired', 0);
  under('access', 1);
  return out;
}
