// Release signing for `npm run package` (issue 16, decision 1000): dist/sha256sums is signed
// with an Ed25519 key (node:crypto) into dist/sha256sums.sig (base64 of the 64-byte signature).
// The private key comes from the PEM file named by DROVER_RELEASE_KEY; without it a development
// key is generated once and kept in the build cache (~/.cache/drover/release-key/), so local
// builds and tests sign without any setup. The public key is carried into the executable as a
// SEA asset (RELEASE_KEY_ASSET) and is what every agent checks releases against.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';
import { DEV_PUBLIC_KEY_FILE } from '../protocol/release-key.ts';

export { RELEASE_KEY_ASSET } from '../protocol/release-key.ts';
export const RELEASE_KEY_ENV = 'DROVER_RELEASE_KEY';
/** Files in the build cache: the development key pair. */
export const DEV_KEY_FILE = 'dev-ed25519.pem';
export { DEV_PUBLIC_KEY_FILE };

export interface ReleaseKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** Where it came from, for the build log (never the key itself). */
  source: string;
}

function checkEd25519(key: KeyObject, where: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new PackagingError(PACKAGING_ERRORS.BUILD_INPUT_MISSING, `${where} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; the release key must be Ed25519 (openssl genpkey -algorithm ed25519)`);
  }
}

/** The release key: DROVER_RELEASE_KEY's file, or the cached development key (created on first use). */
export function loadReleaseKey(env: NodeJS.ProcessEnv, cacheDir: string): ReleaseKey {
  const file = env[RELEASE_KEY_ENV];
  if (file) {
    let pem: string;
    try {
      pem = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new PackagingError(PACKAGING_ERRORS.BUILD_INPUT_MISSING, `${RELEASE_KEY_ENV}=${file}: cannot read the release key (${(err as Error).message})`);
    }
    const privateKey = createPrivateKey(pem);
    checkEd25519(privateKey, `${RELEASE_KEY_ENV}=${file}`);
    return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString(), source: file };
  }
  const dir = path.join(cacheDir, 'release-key');
  const keyFile = path.join(dir, DEV_KEY_FILE);
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('ed25519');
    const tmp = `${keyFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    // Two builds at once: the first rename wins, the other's key is dropped before any use.
    try {
      fs.linkSync(tmp, keyFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    fs.rmSync(tmp, { force: true });
  }
  const privateKey = createPrivateKey(fs.readFileSync(keyFile, 'utf8'));
  checkEd25519(privateKey, keyFile);
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  // The public half beside it: what an agent run from a checkout trusts (agents/upgrade/release-key.ts).
  const pubFile = path.join(dir, DEV_PUBLIC_KEY_FILE);
  if (!fs.existsSync(pubFile) || fs.readFileSync(pubFile, 'utf8') !== publicKeyPem) fs.writeFileSync(pubFile, publicKeyPem);
  return { privateKey, publicKeyPem, source: `development key ${keyFile}` };
}

/** Base64 Ed25519 signature of the exact bytes of `text`, with a trailing newline (sha256sums.sig). */
export function signText(text: string, key: ReleaseKey): string {
  return `${sign(null, Buffer.from(text, 'utf8'), key.privateKey).toString('base64')}\n`;
}
