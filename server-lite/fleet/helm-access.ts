// Which credentials a gitrepo's charts are fetched with (Fleet's semantics, issue 19): the
// gitrepo's helmSecretName applies to every Helm repository and OCI registry URL, or only to URLs
// matching helmRepoURLRegex when that is set; insecureSkipTLSVerify and caBundle apply as for git.
// Pure apart from the secret lookup, which happens at every render (rotation needs no restart).
import { httpCredentials } from '../secrets-store/source-secret.ts';
import type { SecretLookup } from './source-secrets.ts';
import type { ChartCache } from './chart-cache.ts';
import type { HelmSourceAccess, HelmUrlAccess } from './tools.ts';

export interface HelmAccessSpec {
  helmSecretName?: string | undefined;
  helmRepoURLRegex?: string | undefined;
  insecureSkipTLSVerify?: boolean | undefined;
  caBundle?: string | undefined;
}

export function helmAccessFor(gitrepo: string, spec: HelmAccessSpec, secrets: SecretLookup, charts?: Map<string, { chart: string; version: string }>, cache?: ChartCache): HelmSourceAccess {
  let regex: RegExp | undefined;
  try {
    regex = spec.helmRepoURLRegex !== undefined ? new RegExp(spec.helmRepoURLRegex) : undefined;
  } catch {
    regex = /(?!)/; // checked when the gitrepo was added; never match if it is broken anyway
  }
  return {
    forUrl(url: string): HelmUrlAccess {
      const base: HelmUrlAccess = { insecureSkipTLSVerify: spec.insecureSkipTLSVerify, caBundle: spec.caBundle };
      if (spec.helmSecretName === undefined || (regex !== undefined && !regex.test(url))) return base;
      const secret = secrets.get(spec.helmSecretName);
      if (!secret) return { ...base, problem: `gitrepo ${gitrepo}: helmSecretName ${spec.helmSecretName} is not a stored secret (drover secret list)` };
      if (secret.type === 'ssh') return { ...base, problem: `gitrepo ${gitrepo}: helmSecretName ${secret.name} is an ssh secret; Helm repositories take basic-auth, token or tls` };
      const http = httpCredentials(secret);
      const ca = [spec.caBundle, secret.data.caBundle].filter((c): c is string => c !== undefined && c.trim() !== '').join('\n');
      return { ...base, ...(http ?? {}), caBundle: ca === '' ? undefined : ca, cert: secret.data.cert, key: secret.data.key };
    },
    resolved(bundle, chart, version) {
      charts?.set(bundle, { chart, version });
    },
    cache,
  };
}
