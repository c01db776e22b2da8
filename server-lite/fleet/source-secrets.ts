// Credentials for a git fetch, from a stored source secret (issue 19, decision 0942). Values never
// go on a command line: HTTP user and password travel in the git process's environment and reach
// git through an inline credential helper (itself set through GIT_CONFIG_* variables, not argv);
// an SSH key, known_hosts lines and CA or client certificates are written to 0600 files in a
// private 0700 directory that `cleanup()` removes right after the fetch (and FleetService wipes
// at start, in case the server died mid-fetch). SSH always checks the host key strictly against
// the secret's knownHosts and nothing else.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceSecret } from '../secrets-store/source-secret.ts';
import { httpCredentials } from '../secrets-store/source-secret.ts';
import { FleetError } from './errors.ts';
import { redactUrl } from './git-checkout.ts';

export interface SecretLookup {
  get(name: string): SourceSecret | undefined;
}

/** The gitrepo's access options (Fleet's GitRepo field names). */
export interface GitAccess {
  clientSecretName?: string | undefined;
  insecureSkipTLSVerify?: boolean | undefined;
  /** PEM of the CA that signed the git server's certificate (Fleet's caBundle). */
  caBundle?: string | undefined;
}

export interface GitCredentials {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/** `ssh://…` and scp-like `user@host:path` are SSH; everything else is not. */
export function isSshUrl(url: string): boolean {
  return /^ssh:\/\//i.test(url) || /^(git\+ssh|ssh\+git):\/\//i.test(url) || /^[^/:@\s]+@[^/:\s]+:(?!\/\/)/.test(url);
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

// The helper answers `get` only; `store` and `erase` are no-ops (nothing is ever written anywhere).
const HELPER = '!f() { test "$1" = get || exit 0; printf \'username=%s\\npassword=%s\\n\' "$DROVER_GIT_USERNAME" "$DROVER_GIT_PASSWORD"; }; f';

/** Builds the environment for one fetch; the caller must call cleanup() when git is done. */
export async function gitCredentials(repo: string, access: GitAccess, secrets: SecretLookup, scratch: string, gitrepo: string): Promise<GitCredentials> {
  const env: Record<string, string> = {};
  const config: [string, string][] = [];
  let dir: string | undefined;
  const file = async (name: string, content: string): Promise<string> => {
    dir ??= await mkdtemp(join(scratch, 'cred-'));
    const path = join(dir, name);
    await writeFile(path, content.endsWith('\n') ? content : `${content}\n`, { mode: 0o600 });
    return path;
  };
  const cleanup = async (): Promise<void> => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  };
  try {
    const secret = access.clientSecretName !== undefined ? secrets.get(access.clientSecretName) : undefined;
    if (access.clientSecretName !== undefined && secret === undefined) {
      throw new FleetError('GIT_CREDENTIALS_MISSING', `gitrepo ${gitrepo}: clientSecretName ${access.clientSecretName} is not a stored secret (drover secret list)`);
    }
    const ssh = isSshUrl(repo);
    if (secret !== undefined) {
      if (ssh && secret.type !== 'ssh') {
        throw new FleetError('GIT_CREDENTIALS_MISSING', `gitrepo ${gitrepo}: ${redactUrl(repo)} is an SSH URL but secret ${secret.name} is of type ${secret.type}; create one with --type ssh`);
      }
      if (!ssh && secret.type === 'ssh') {
        throw new FleetError('GIT_CREDENTIALS_MISSING', `gitrepo ${gitrepo}: secret ${secret.name} is an ssh secret but the URL is not ssh:// or user@host:path`);
      }
    }
    if (secret?.type === 'ssh') {
      const key = await file('id', secret.data.privateKey ?? '');
      const knownHosts = await file('known_hosts', secret.data.knownHosts ?? '');
      env.GIT_SSH_COMMAND = [
        'ssh', '-F', '/dev/null', '-i', shellQuote(key), '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
        '-o', `UserKnownHostsFile=${shellQuote(knownHosts)}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15',
      ].join(' ');
      env.GIT_SSH_VARIANT = 'ssh';
    }
    const http = secret ? httpCredentials(secret) : undefined;
    if (http) {
      if (/[\r\n]/.test(http.username + http.password)) throw new FleetError('GIT_CREDENTIALS_MISSING', `gitrepo ${gitrepo}: secret ${secret?.name} has a line break in its user name or password`);
      env.DROVER_GIT_USERNAME = http.username;
      env.DROVER_GIT_PASSWORD = http.password;
      config.push(['credential.helper', HELPER]);
    }
    const ca = [access.caBundle, secret?.data.caBundle].filter((c): c is string => c !== undefined && c.trim() !== '').join('\n');
    if (ca !== '') env.GIT_SSL_CAINFO = await file('ca.pem', ca);
    if (secret?.type === 'tls' && secret.data.cert !== undefined && secret.data.key !== undefined) {
      env.GIT_SSL_CERT = await file('cert.pem', secret.data.cert);
      env.GIT_SSL_KEY = await file('key.pem', secret.data.key);
    }
    if (access.insecureSkipTLSVerify === true) env.GIT_SSL_NO_VERIFY = '1';
    if (config.length > 0) {
      env.GIT_CONFIG_COUNT = String(config.length);
      config.forEach(([k, v], i) => {
        env[`GIT_CONFIG_KEY_${i}`] = k;
        env[`GIT_CONFIG_VALUE_${i}`] = v;
      });
    }
    return { env, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
