// Real source servers for the issue-19 tests, each on loopback in its own temp dir:
// - lighttpd (Debian) over HTTPS with basic auth, serving `git http-backend` under /git/ and a
//   static Helm repository (`helm package` + `helm repo index`) under /charts/;
// - OpenSSH's sshd on loopback for the current user, the key restricted to git-shell, with a
//   known_hosts line for the host key;
// - the CNCF distribution registry (built by build-registry.ts) over HTTPS with htpasswd auth.
// One CA per run signs every server certificate (SAN 127.0.0.1 and localhost).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../k8s/ports.ts';
import { buildRegistry } from './build-registry.ts';

export interface Served {
  dir: string;
  port: number;
  stop(): Promise<void>;
}

async function listening(port: number, child: ChildProcess, what: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function daemon(cmd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  child.stderr?.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-8000)));
  return { child, log: () => out };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await done;
  clearTimeout(t);
}

export interface TestCa {
  caPem: string;
  certFile: string;
  keyFile: string;
}

/** A CA and a server certificate for 127.0.0.1 / localhost, in `dir`. */
export function makeTls(dir: string): TestCa {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=drover-sources-test-ca']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext']);
  return { caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

/** An htpasswd file (bcrypt, which both lighttpd and the registry read); the password goes on stdin. */
export function htpasswd(file: string, user: string, password: string): void {
  execFileSync('htpasswd', ['-i', '-B', ...(existsSync(file) ? [] : ['-c']), file, user], { input: password, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** A bare repository under `root` that tests push to over the file system. */
export function bareRepo(root: string, name: string): string {
  const path = join(root, name);
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', path]);
  // http-backend serves repositories with this marker (or GIT_HTTP_EXPORT_ALL).
  writeFileSync(join(path, 'git-daemon-export-ok'), '');
  return path;
}

export interface HttpsGitServer extends Served {
  url: string;
  ca: TestCa;
  reposDir: string;
  chartsDir: string;
}

/** A client certificate signed by the CA in `dir` (made by makeTls there), for tls secrets. */
export function makeClientCert(dir: string, cn: string): { cert: string; key: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${cn}.key`, '-out', `${cn}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${cn}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
  run(['x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${cn}.crt`, '-days', '2', '-extfile', `${cn}.ext`]);
  return { cert: readFileSync(join(dir, `${cn}.crt`), 'utf8'), key: readFileSync(join(dir, `${cn}.key`), 'utf8') };
}

/**
 * lighttpd over HTTPS. With `clientCerts`, a client certificate signed by the CA is required
 * instead of basic auth (user and password are then unused).
 */
export async function startHttpsServer(user: string, password: string, ca?: TestCa, opts: { clientCerts?: boolean } = {}): Promise<HttpsGitServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drover-https-src-'));
  const tls = ca ?? makeTls(dir);
  const [port] = await freePorts(1);
  const reposDir = join(dir, 'repos');
  const www = join(dir, 'www');
  const chartsDir = join(www, 'charts');
  mkdirSync(reposDir);
  mkdirSync(chartsDir, { recursive: true });
  htpasswd(join(dir, 'htpasswd'), user, password);
  writeFileSync(join(dir, 'server.pem'), readFileSync(tls.certFile, 'utf8') + readFileSync(tls.keyFile, 'utf8'));
  writeFileSync(join(dir, 'lighttpd.conf'), `
server.modules = ("mod_access", "mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi", "mod_openssl")
server.document-root = "${www}"
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = "${dir}/error.log"
ssl.engine = "enable"
ssl.pemfile = "${dir}/server.pem"
${opts.clientCerts ? `ssl.ca-file = "${join(tls.certFile, '..', 'ca.crt')}"
ssl.verifyclient.activate = "enable"
ssl.verifyclient.enforce = "enable"` : `auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "${dir}/htpasswd"
auth.require = ( "/" => ( "method" => "basic", "realm" => "drover-test", "require" => "valid-user" ) )`}
alias.url = ( "/git" => "/usr/lib/git-core/git-http-backend" )
$HTTP["url"] =~ "^/git" {
  cgi.assign = ( "" => "" )
  setenv.add-environment = ( "GIT_PROJECT_ROOT" => "${reposDir}", "GIT_HTTP_EXPORT_ALL" => "" )
}
`);
  const { child, log } = daemon('/usr/sbin/lighttpd', ['-D', '-f', join(dir, 'lighttpd.conf')]);
  await listening(port ?? 0, child, 'lighttpd', () => log() + (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''));
  return {
    dir, port: port ?? 0, ca: tls, reposDir, chartsDir, url: `https://127.0.0.1:${port}`,
    stop: async () => {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SshGitServer extends Served {
  user: string;
  reposDir: string;
  /** The known_hosts line for the server's host key. */
  knownHosts: string;
  /** A client key the server accepts (OpenSSH private key text) and its public key. */
  clientKey: string;
  url(repo: string): string;
}

export async function startSshServer(): Promise<SshGitServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drover-ssh-src-'));
  const [port] = await freePorts(1);
  const reposDir = join(dir, 'repos');
  mkdirSync(reposDir);
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'drover-test', '-f', file]);
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  const pub = readFileSync(join(dir, 'client_key.pub'), 'utf8').trim();
  // The key may run git's transport commands only (as a git hosting service's keys can).
  writeFileSync(join(dir, 'authorized_keys'), `restrict,command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"" ${pub}\n`, { mode: 0o600 });
  const user = userInfo().username;
  writeFileSync(join(dir, 'sshd_config'), `
Port ${port}
ListenAddress 127.0.0.1
HostKey ${dir}/host_key
PidFile none
AuthorizedKeysFile ${dir}/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AllowUsers ${user}
LogLevel ERROR
`);
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const { child, log } = daemon('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')]);
  await listening(port ?? 0, child, 'sshd', log);
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ');
  return {
    dir, port: port ?? 0, user, reposDir,
    knownHosts: `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`,
    clientKey: readFileSync(join(dir, 'client_key'), 'utf8'),
    url: (repo) => `ssh://${user}@127.0.0.1:${port}${join(reposDir, repo)}`,
    stop: async () => {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Registry extends Served {
  host: string;
  ca: TestCa;
}

export async function startRegistry(user: string, password: string, ca?: TestCa): Promise<Registry> {
  const bin = buildRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'drover-registry-'));
  const tls = ca ?? makeTls(dir);
  const [port] = await freePorts(1);
  htpasswd(join(dir, 'htpasswd'), user, password);
  writeFileSync(join(dir, 'config.yml'), `
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: ${dir}/data }, delete: { enabled: true } }
http:
  addr: 127.0.0.1:${port}
  secret: drover-test-only
  tls: { certificate: ${tls.certFile}, key: ${tls.keyFile} }
auth:
  htpasswd: { realm: drover-test, path: ${dir}/htpasswd }
`);
  const { child, log } = daemon(bin, ['serve', join(dir, 'config.yml')], { OTEL_TRACES_EXPORTER: 'none' });
  await listening(port ?? 0, child, 'registry', log);
  return {
    dir, port: port ?? 0, host: `127.0.0.1:${port}`, ca: tls,
    stop: async () => {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
