// Sealing of source secrets at rest (ARCHITECTURE.md §8): AES-256-GCM under the server's secrets
// key, a fresh 96-bit nonce per write, the secret's name and type as authenticated data so a sealed
// value cannot be moved to another name or type unnoticed. Pure apart from the crypto built-ins.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 1;

const aad = (name: string, type: string): Buffer => Buffer.from(`drover-secret-v${VERSION}\0${name}\0${type}`);

/** `version(1) | iv(12) | ciphertext | tag(16)`. */
export function sealValue(key: Buffer, name: string, type: string, plain: Buffer, random: (n: number) => Buffer = randomBytes): Buffer {
  if (key.length !== KEY_BYTES) throw new Error('the secrets key must be 32 bytes');
  const iv = random(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad(name, type));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, body, c.getAuthTag()]);
}

export function openValue(key: Buffer, name: string, type: string, sealed: Buffer): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) throw new Error(`secret ${name}: unknown sealing format`);
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + IV_BYTES));
  d.setAAD(aad(name, type));
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([d.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new Error(`secret ${name} cannot be opened: the secrets key does not match or the row was changed`);
  }
}
