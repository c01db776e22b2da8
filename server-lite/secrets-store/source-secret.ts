// Source credentials (ARCHITECTURE.md §3 `drover secret create NAME --type …`): what each type
// holds and how it is checked. Pure. Values are kept as given (a private key's newlines matter);
// nothing here ever formats a value into a message.

export const SECRET_TYPES = ['basic-auth', 'ssh', 'token', 'tls'] as const;
export type SecretType = (typeof SECRET_TYPES)[number];

/** The fields of each type: required first, then optional (Fleet's secret keys, camel-cased). */
export const SECRET_FIELDS: Readonly<Record<SecretType, { required: readonly string[]; optional: readonly string[] }>> = Object.freeze({
  // Git over HTTPS, a Helm repository, an OCI registry.
  'basic-auth': { required: ['username', 'password'], optional: ['caBundle'] },
  // A bearer-like token, sent as the password of HTTP basic auth (git hosts and registries accept
  // that); the user name defaults to `token`.
  token: { required: ['token'], optional: ['username', 'caBundle'] },
  // Git over SSH: the private key and the known_hosts lines the server's host key must match.
  ssh: { required: ['privateKey', 'knownHosts'], optional: [] },
  // A client certificate and/or a CA bundle for HTTPS sources.
  tls: { required: [], optional: ['caBundle', 'cert', 'key'] },
});

export const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;
/** Each value at most 64 KiB: a key, a certificate chain or a known_hosts file fits easily. */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;

export interface SourceSecret {
  name: string;
  type: SecretType;
  data: Record<string, string>;
}

/** What `secret list` shows: never a value, only which fields are set. */
export interface SecretSummary {
  name: string;
  type: SecretType;
  fields: string[];
  createdAt: number;
  updatedAt: number;
}

export const isSecretType = (v: unknown): v is SecretType => typeof v === 'string' && (SECRET_TYPES as readonly string[]).includes(v);

/** Returns what is wrong with a secret (undefined when it is fine); messages name fields, never values. */
export function secretProblem(s: { name: unknown; type: unknown; data: unknown }): string | undefined {
  if (typeof s.name !== 'string' || !SECRET_NAME.test(s.name)) return `secret name must be a DNS name (lowercase letters, digits, '-', '.', at most 63)`;
  if (!isSecretType(s.type)) return `secret type must be one of ${SECRET_TYPES.join(', ')}`;
  if (typeof s.data !== 'object' || s.data === null || Array.isArray(s.data)) return 'secret data must be an object of strings';
  const fields = SECRET_FIELDS[s.type];
  const data = s.data as Record<string, unknown>;
  for (const [k, v] of Object.entries(data)) {
    if (!fields.required.includes(k) && !fields.optional.includes(k)) {
      return `a ${s.type} secret has no field ${k} (fields: ${[...fields.required, ...fields.optional].join(', ')})`;
    }
    if (typeof v !== 'string') return `field ${k} must be a string`;
    if (Buffer.byteLength(v) > MAX_SECRET_VALUE_BYTES) return `field ${k} is larger than ${MAX_SECRET_VALUE_BYTES} bytes`;
  }
  for (const k of fields.required) {
    if (typeof data[k] !== 'string' || (data[k] as string).trim() === '') return `a ${s.type} secret needs ${k}`;
  }
  if (s.type === 'tls' && Object.keys(data).length === 0) return 'a tls secret needs caBundle, or cert and key';
  if (s.type === 'tls' && (data.cert === undefined) !== (data.key === undefined)) return 'a tls secret needs cert and key together';
  if (s.type === 'ssh' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(String(data.privateKey))) return 'privateKey is not a PEM or OpenSSH private key';
  if (s.type === 'basic-auth' && /[\r\n]/.test(String(data.username))) return 'username must be one line';
  return undefined;
}

/** HTTP credentials of a basic-auth or token secret. */
export function httpCredentials(s: SourceSecret): { username: string; password: string } | undefined {
  if (s.type === 'basic-auth') return { username: s.data.username ?? '', password: s.data.password ?? '' };
  if (s.type === 'token') return { username: s.data.username ?? 'token', password: s.data.token ?? '' };
  return undefined;
}
