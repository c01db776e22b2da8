// The sealed backup file (pure but for the crypto built-ins; decision 0807): a header line
// `DROVER-BACKUP 1`, a JSON line naming the key derivation (scrypt, its cost and salt) and the
// nonce, then the AES-256-GCM ciphertext of the archive and its 16-byte tag. The header is
// authenticated data, so neither it nor the archive can be changed without the tag failing: a
// corrupted file and a wrong passphrase are both refused before anything is written anywhere.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

const MAGIC = 'DROVER-BACKUP 1\n';
const TAG_BYTES = 16;
/** scrypt cost: ~100 ms and 32 MiB on the machines we run on; stored, so it can grow later. */
const KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

export class BackupError extends Error {
  readonly code: 'BACKUP_NOT_A_BACKUP' | 'BACKUP_UNREADABLE' | 'BACKUP_PASSPHRASE_TOO_SHORT' | 'BACKUP_POSTGRES';
  constructor(code: BackupError['code'], message: string) {
    super(message);
    this.name = 'BackupError';
    this.code = code;
  }
}

interface Header {
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
}

const keyOf = (passphrase: Buffer, h: Header): Buffer => scryptSync(passphrase, Buffer.from(h.salt, 'base64'), 32, { N: h.N, r: h.r, p: h.p, maxmem: 256 * 1024 * 1024 });

export const MIN_PASSPHRASE_BYTES = 12;

export function sealBackup(archive: Buffer, passphrase: Buffer): Buffer {
  if (passphrase.length < MIN_PASSPHRASE_BYTES) {
    throw new BackupError('BACKUP_PASSPHRASE_TOO_SHORT', `the backup passphrase must have at least ${MIN_PASSPHRASE_BYTES} bytes`);
  }
  const header: Header = { kdf: 'scrypt', ...KDF, salt: randomBytes(16).toString('base64'), iv: randomBytes(12).toString('base64') };
  const head = Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`);
  const cipher = createCipheriv('aes-256-gcm', keyOf(passphrase, header), Buffer.from(header.iv, 'base64'));
  cipher.setAAD(head);
  const body = Buffer.concat([cipher.update(archive), cipher.final()]);
  return Buffer.concat([head, body, cipher.getAuthTag()]);
}

export function openBackup(file: Buffer, passphrase: Buffer): Buffer {
  if (!file.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) throw new BackupError('BACKUP_NOT_A_BACKUP', 'this is not a Drover backup (no DROVER-BACKUP header)');
  const eol = file.indexOf(0x0a, MAGIC.length);
  if (eol < 0 || file.length < eol + 1 + TAG_BYTES) throw new BackupError('BACKUP_UNREADABLE', 'the backup is truncated');
  let header: Header;
  try {
    header = JSON.parse(file.subarray(MAGIC.length, eol).toString('utf8')) as Header;
  } catch {
    throw new BackupError('BACKUP_UNREADABLE', 'the backup header is damaged');
  }
  const b64 = (v: unknown, bytes: number) => typeof v === 'string' && Buffer.from(v, 'base64').length === bytes;
  if (header.kdf !== 'scrypt' || ![header.N, header.r, header.p].every((n) => Number.isInteger(n) && n > 0) || header.N > 2 ** 20 || header.r > 32 || header.p > 16
    || !b64(header.salt, 16) || !b64(header.iv, 12)) {
    throw new BackupError('BACKUP_UNREADABLE', 'the backup header names an unknown or unreasonable key derivation');
  }
  const head = file.subarray(0, eol + 1);
  const decipher = createDecipheriv('aes-256-gcm', keyOf(passphrase, header), Buffer.from(header.iv, 'base64'));
  decipher.setAAD(head);
  decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(file.subarray(eol + 1, file.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new BackupError('BACKUP_UNREADABLE', 'the backup cannot be opened: wrong passphrase, or the file was changed or damaged');
  }
}
