// What went wrong with a git fetch, from git's and ssh's own words (pure): each cause a user acts
// on differently gets its own code, so `drover gitrepo list` says "fix the password" or "fix
// known_hosts" instead of "git failed". Patterns are git 2.39+ / OpenSSH 9 / curl messages
// (LC_ALL=C is set for every git run, so they are never translated).
import type { FleetErrorCode } from './errors.ts';

export type GitErrorCode = Extract<FleetErrorCode, `GIT_${string}`>;

const RULES: readonly { code: GitErrorCode; pattern: RegExp; advice: string }[] = [
  {
    code: 'GIT_HOST_KEY_MISMATCH',
    pattern: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|No [A-Z0-9-]+ host key is known for|host key for .* has changed/i,
    advice: "the SSH host key is not the one pinned in the secret's knownHosts; check the server, then update the secret (drover secret create NAME --type ssh --replace)",
  },
  {
    code: 'GIT_AUTH_FAILED',
    pattern: /Authentication failed|HTTP Basic: Access denied|returned error: 40[13]|could not read (Username|Password)|terminal prompts disabled|Permission denied \((publickey|password)|Invalid username or password/i,
    advice: 'the server refused the credentials; check the gitrepo\'s clientSecretName and the secret\'s values',
  },
  {
    code: 'GIT_TLS_FAILED',
    pattern: /SSL certificate problem|server certificate verification failed|unable to get local issuer certificate|self-signed certificate|certificate verify failed|TLS fatal alert|certificate required|handshake failure/i,
    advice: 'TLS with the server failed: its certificate is not trusted (give its CA as caBundle, or --insecure-skip-tls-verify for a test server), or it wants a client certificate (a tls secret)',
  },
  {
    code: 'GIT_HOST_UNREACHABLE',
    pattern: /Could not resolve host|Could not resolve hostname|Name or service not known|Connection refused|Connection timed out|No route to host|Failed to connect|Network is unreachable|Connection reset|Connection closed by/i,
    advice: 'the git server is unknown or does not answer; check the URL\'s host and port',
  },
  {
    code: 'GIT_REF_NOT_FOUND',
    pattern: /couldn't find remote ref|Remote branch .* not found|unknown revision|not our ref|does not exist/i,
    advice: 'the branch, tag or commit does not exist on the server; check --branch / --revision',
  },
  {
    code: 'GIT_REPO_NOT_FOUND',
    pattern: /Repository not found|returned error: 404|does not appear to be a git repository|not found|No such file or directory/i,
    advice: 'no repository at that URL; check --repo',
  },
];

/** The code and the advice for git's stderr; GIT_FAILED when nothing matches. */
export function classifyGitError(stderr: string): { code: GitErrorCode; advice?: string | undefined } {
  for (const r of RULES) if (r.pattern.test(stderr)) return { code: r.code, advice: r.advice };
  return { code: 'GIT_FAILED' };
}
