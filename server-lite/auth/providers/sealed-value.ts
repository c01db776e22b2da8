// Provider secrets (an LDAP bind password, an OIDC client secret, a user's OIDC refresh token) are
// stored sealed with the server's one secrets key and sealing (secrets-store/seal.ts: AES-256-GCM
// under DIR/secrets.key, 0600, made on first use), as base64url text. The purpose (`provider:NAME`,
// `refresh:USER`) is authenticated data, so a sealed value copied into another row does not open.
// The store alone (a stolen database or backup without the key file) reveals no provider secret.
import { join } from 'node:path';
import { ensureSecretsKey, SECRETS_KEY_FILE } from '../../secrets-store/secret-store.ts';
import { openValue, sealValue } from '../../secrets-store/seal.ts';

export { SECRETS_KEY_FILE };

/** Sealing type of provider secrets (source secrets use their own types: basic-auth, ssh, …). */
const TYPE = 'identity-provider';

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
  if (key.length !== 32) throw new SealedValueError('the secrets key must be 32 bytes');
  return {
    seal: (plain, purpose) => sealValue(key, purpose, TYPE, Buffer.from(plain, 'utf8')).toString('base64url'),
    open(sealed, purpose) {
      try {
        return openValue(key, purpose, TYPE, Buffer.from(sealed, 'base64url')).toString('utf8');
      } catch {
        throw new SealedValueError(`a sealed secret (${purpose}) does not open with ${SECRETS_KEY_FILE}: was the key file replaced?`);
      }
    },
  };
}

/** The data dir's sealer; the key file is created (0600) the first time. */
export function dataDirSealer(dataDir: string): Sealer {
  return sealerWithKey(ensureSecretsKey(join(dataDir, SECRETS_KEY_FILE)));
}
