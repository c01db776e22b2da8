// Provider secrets (an LDAP bind password, an OIDC client secret, a user's OIDC refresh token) are
// stored sealed: AES-256-GCM under a 32-byte key kept in DIR/idp-secrets.key (0600, made on first
// use), as `v1.<iv>.<ciphertext>.<tag>` (base64url). The associated data names what the value is
// for (`provider:NAME`, `refresh:USER`), so a sealed value copied into another row does not open.
// The store alone (a stolen database or backup without the key file) reveals no provider secret.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRETS_KEY_FILE = 'idp-secrets.key';

export class SealedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedValueError';
  }
}

export interface Sealer {
  seal(plain: string, purpose: string): string;
  open(sealed: string, purpose: string): string;
}

export function sealerWithKey(key: Buffer): Sealer {
  if (key.length !== 32) throw new SealedValueError('the provider secrets key must be 32 bytes');
  return {
    seal(plain, purpose) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(purpose));
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', iv, body, c.getAuthTag()].map((x) => (typeof x === 'string' ? x : x.toString('base64url'))).join('.');
    },
    open(sealed, purpose) {
      const [v, iv, body, tag] = sealed.split('.');
      if (v !== 'v1' || iv === undefined || body === undefined || tag === undefined) throw new SealedValueError('not a sealed value');
      try {
        const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        d.setAAD(Buffer.from(purpose));
        d.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
      } catch {
        throw new SealedValueError(`a sealed secret (${purpose}) does not open with ${SECRETS_KEY_FILE}: was the key file replaced?`);
      }
    },
  };
}

/** The data dir's sealer; the key file is created (0600) the first time. */
export function dataDirSealer(dataDir: string): Sealer {
  const file = join(dataDir, SECRETS_KEY_FILE);
  if (!existsSync(file)) {
    writeFileSync(`${file}.tmp`, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
  return sealerWithKey(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
}
