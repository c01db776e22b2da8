import t from 'tap';
import { classifyGitError } from './git-errors.ts';

t.test('git errors: each cause a user fixes differently has its own code', async (t) => {
  const cases: [string, string][] = [
    ["fatal: Authentication failed for 'https://127.0.0.1:4443/git/repo.git/'", 'GIT_AUTH_FAILED'],
    ['fatal: could not read Username for \'https://h\': terminal prompts disabled', 'GIT_AUTH_FAILED'],
    ['git@127.0.0.1: Permission denied (publickey).\r\nfatal: Could not read from remote repository.', 'GIT_AUTH_FAILED'],
    ['No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.', 'GIT_HOST_KEY_MISMATCH'],
    ['@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@', 'GIT_HOST_KEY_MISMATCH'],
    ["fatal: unable to access 'https://nohost.invalid/x.git/': Could not resolve host: nohost.invalid", 'GIT_HOST_UNREACHABLE'],
    ['ssh: connect to host 127.0.0.1 port 1: Connection refused', 'GIT_HOST_UNREACHABLE'],
    ["fatal: unable to access 'https://127.0.0.1/': SSL certificate problem: self-signed certificate", 'GIT_TLS_FAILED'],
    ["fatal: unable to access 'https://127.0.0.1:1/x.git/': GnuTLS recv error (-12): A TLS fatal alert has been received.", 'GIT_TLS_FAILED'],
    ["fatal: couldn't find remote ref refs/heads/nope", 'GIT_REF_NOT_FOUND'],
    ["fatal: '/srv/x.git' does not appear to be a git repository", 'GIT_REPO_NOT_FOUND'],
    ["fatal: repository 'https://h/x.git/' not found", 'GIT_REPO_NOT_FOUND'],
    ['timed out', 'GIT_FAILED'],
  ];
  for (const [stderr, code] of cases) t.equal(classifyGitError(stderr).code, code, stderr.slice(0, 60));
});
