// Issue 19 acceptance end to end with real processes: `drover server`, one `drover agent run
// --roles fleet` on a harness cluster, and real source servers: git http-backend behind lighttpd
// over HTTPS with basic auth, sshd with a pinned known_hosts, and the distribution OCI registry.
// Secrets are made with the CLI (stdin and files). Covers: deploy from a private repository over
// HTTPS and over SSH; wrong credentials, a missing ref, an unknown host, a host key mismatch, a
// YAML error with file and line, and a chart version not found, each a distinct code on the
// gitrepo and its bundle while the last good revision stays applied; credentials rotated without
// a server restart; a commit pushed while the agent is offline arrives after it reconnects; a
// force-push is followed; the resolved chart version is shown.
import t from 'tap';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { childEnv, drover, DROVER, startAgent, startServer, waitFor, type ServerProc, testDir } from '../e2e/agent-helpers.ts';
import { agentDirIn, fleetServerEnv, joinFleetAgent, FLEET_AGENT_ENV } from '../e2e/fleet-helpers.ts';
import { freePorts } from '../k8s/ports.ts';
import { bareRepo, makeTls, startHttpsServer, startRegistry, startSshServer } from './servers.ts';
import { workingCopy } from './git-repo.ts';

const PASSWORD = 'e2e-git-pw-0b7c';

interface GitRepoJson { name: string; commit: string | null; error: string | null; bundles: string[]; charts?: { bundle: string; chart: string; version: string }[] }
interface BundleJson { revision: string; clusters: { id: string; state: string }[]; error?: { code: string; message: string } }

t.test('private sources end to end: HTTPS, SSH and OCI with credentials, errors a user can act on, offline agent, force-push, rotation', async (t) => {
  const dir = testDir(t);
  const ca = makeTls(dir);
  const caFile = path.join(dir, 'ca.crt');
  const [cluster, https, ssh, registry] = await Promise.all([startCluster({ nodes: 1 }), startHttpsServer('deploy', PASSWORD, ca), startSshServer(), startRegistry('charts', PASSWORD, ca)]);
  t.teardown(() => Promise.all([cluster.stop(), https.stop(), ssh.stop(), registry.stop()]).then(() => undefined));
  const serverDir = path.join(dir, 'server');
  const server: ServerProc = await startServer(serverDir, 0, fleetServerEnv());
  t.teardown(() => server.proc.stop());
  let agent = await joinFleetAgent(server, { dir: agentDirIn(dir, 'edge-1'), name: 'edge-1', labels: 'env=edge', kubeconfig: cluster.kubeconfig });
  t.teardown(() => agent.agent.stop());

  const admin = (args: string[], input?: string) =>
    execa(DROVER, [...args, '--data-dir', serverDir], { input, reject: false, env: childEnv(), extendEnv: false, timeout: 60_000 }).then((r) => ({ exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) }));
  const ok = async (args: string[], input?: string) => {
    const r = await admin(args, input);
    t.equal(r.exitCode, 0, `${args.slice(0, 3).join(' ')}: ${r.stderr}`);
    return r;
  };
  const cm = async (name: string, key: string) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, '-n', 'private', 'get', 'configmap', name, '-o', `jsonpath={.data.${key}}`], { reject: false });
    return r.exitCode === 0 ? String(r.stdout) : undefined;
  };
  const gitrepo = async (name: string) => ((await drover(['gitrepo', 'list', '--json', '--data-dir', serverDir])).stdout ? (JSON.parse((await drover(['gitrepo', 'list', '--json', '--data-dir', serverDir])).stdout) as GitRepoJson[]).find((g) => g.name === name) : undefined);
  const bundle = async (name: string) => {
    const r = await drover(['bundle', 'status', name, '--json', '--data-dir', serverDir]);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as BundleJson) : undefined;
  };
  const live = (name: string, key: string, value: string) => waitFor(`${name}.${key} = ${value} on the cluster`, async () => ((await cm(name, key)) === value ? true : undefined), 90_000);
  /** Waits for the gitrepo and its bundle to show `code`, then checks the last good value is still applied. */
  const failsWith = async (repo: string, b: string, code: string, keep: [string, string, string]) => {
    await waitFor(`gitrepo ${repo} and bundle ${b} fail with ${code}`, async () => {
      const [g, s] = await Promise.all([gitrepo(repo), bundle(b)]);
      if (g?.error?.startsWith(`${code}:`) && s?.error?.code === code) return true;
      throw new Error(JSON.stringify({ gitrepo: g?.error, bundle: s?.error }));
    }, 60_000);
    t.equal(await cm(keep[0], keep[1]), keep[2], `${code}: the last good revision stays applied`);
  };

  // The private HTTPS repository: plain YAML and an OCI chart with a version range.
  const wc = workingCopy(bareRepo(https.reposDir, 'apps.git'));
  t.teardown(() => wc.remove());
  const cmYaml = (name: string, rev: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {rev: "${rev}"}\n`;
  const chartSrc = path.join(dir, 'chart');
  for (const v of ['1.0.0', '1.1.0']) {
    const c = path.join(chartSrc, v, 'web');
    execFileSync('mkdir', ['-p', path.join(c, 'templates')]);
    writeFileSync(path.join(c, 'Chart.yaml'), `apiVersion: v2\nname: web\nversion: ${v}\n`);
    writeFileSync(path.join(c, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-oci}\ndata: {chart: {{ .Chart.Version | quote }}}\n');
    const env = { ...process.env, HOME: dir, HELM_CONFIG_HOME: path.join(dir, '.helm'), HELM_CACHE_HOME: path.join(dir, '.helmc') };
    execFileSync(tools.helm(), ['package', c, '-d', chartSrc], { env });
    execFileSync(tools.helm(), ['registry', 'login', registry.host, '--username', 'charts', '--password-stdin', '--ca-file', caFile], { env, input: PASSWORD });
    execFileSync(tools.helm(), ['push', path.join(chartSrc, `web-${v}.tgz`), `oci://${registry.host}/charts`, '--ca-file', caFile], { env });
  }
  const ociFleetYaml = (version: string) => `defaultNamespace: private\nhelm:\n  chart: oci://${registry.host}/charts/web\n  version: "${version}"\n`;
  const first = wc.commit({ 'web/cm.yaml': cmYaml('web', '1'), 'web/fleet.yaml': 'defaultNamespace: private\n', 'oci/fleet.yaml': ociFleetYaml('~1.0') }, 'one');

  await ok(['secret', 'create', 'git-https', '--type', 'basic-auth', '--username', 'deploy', '--password-stdin'], PASSWORD);
  await ok(['secret', 'create', 'oci', '--type', 'basic-auth', '--username', 'charts', '--password-stdin'], PASSWORD);
  const url = `${https.url}/git/apps.git`;
  const addHttps = (repo = url, branch = 'main') =>
    ok(['gitrepo', 'add', 'apps', '--repo', repo, '--branch', branch, '--paths', 'web,oci', '--poll-interval', '2s', '--client-secret', 'git-https', '--ca-bundle-file', caFile, '--helm-secret', 'oci']);
  await addHttps();

  await t.test('deploys from the private HTTPS repository and an OCI chart; the resolved version is shown', async (t) => {
    await live('web', 'rev', '1');
    await live('from-oci', 'chart', '1.0.0');
    const g = await gitrepo('apps');
    t.equal(g?.commit, first);
    t.same(g?.charts, [{ bundle: 'apps-oci', chart: 'web', version: '1.0.0' }], '~1.0 resolved to 1.0.0, shown in gitrepo list');
  });

  await t.test('each failure a distinct code on the gitrepo and the bundle; the last good revision stays', async (t) => {
    await ok(['secret', 'create', 'git-https', '--type', 'basic-auth', '--username', 'deploy', '--password-stdin', '--replace'], 'wrong');
    await failsWith('apps', 'apps-web', 'GIT_AUTH_FAILED', ['web', 'rev', '1']);
    await ok(['secret', 'create', 'git-https', '--type', 'basic-auth', '--username', 'deploy', '--password-stdin', '--replace'], PASSWORD);
    await waitFor('rotated credentials used without a restart', async () => ((await bundle('apps-web'))?.error === undefined && (await gitrepo('apps'))?.error === null ? true : undefined), 60_000);

    // Chart credentials rotated at the same commit: the bundle is rendered again at once.
    await ok(['secret', 'create', 'oci', '--type', 'basic-auth', '--username', 'charts', '--password-stdin', '--replace'], 'wrong');
    await waitFor('apps-oci fails with HELM_REPO_AUTH_FAILED at the same commit', async () => ((await bundle('apps-oci'))?.error?.code === 'HELM_REPO_AUTH_FAILED' ? true : undefined), 60_000);
    t.equal(await cm('from-oci', 'chart'), '1.0.0', 'HELM_REPO_AUTH_FAILED: the last good revision stays applied');
    await ok(['secret', 'create', 'oci', '--type', 'basic-auth', '--username', 'charts', '--password-stdin', '--replace'], PASSWORD);
    await waitFor('apps-oci renders again with the rotated chart credentials', async () => ((await bundle('apps-oci'))?.error === undefined ? true : undefined), 60_000);

    await addHttps(url, 'nope');
    await failsWith('apps', 'apps-web', 'GIT_REF_NOT_FOUND', ['web', 'rev', '1']);
    const [dead] = await freePorts(1);
    await addHttps(`https://127.0.0.1:${dead}/git/apps.git`);
    await failsWith('apps', 'apps-web', 'GIT_HOST_UNREACHABLE', ['web', 'rev', '1']);
    await addHttps();

    wc.commit({ 'web/fleet.yaml': 'defaultNamespace: private\nhelm: {values: [\n', 'oci/fleet.yaml': ociFleetYaml('~9.0') }, 'broken');
    await waitFor('YAML error with file and line; chart version not found', async () => {
      const [w, o] = await Promise.all([bundle('apps-web'), bundle('apps-oci')]);
      if (w?.error?.code === 'FLEET_YAML_INVALID' && /web\/fleet\.yaml:\d+:\d+/.test(w.error.message) && o?.error?.code === 'HELM_CHART_NOT_FOUND') return true;
      throw new Error(JSON.stringify([w?.error, o?.error]));
    }, 60_000);
    t.equal(await cm('web', 'rev'), '1');
    t.equal(await cm('from-oci', 'chart'), '1.0.0', 'the earlier chart stays applied');
    wc.commit({ 'web/fleet.yaml': 'defaultNamespace: private\n', 'web/cm.yaml': cmYaml('web', '2'), 'oci/fleet.yaml': ociFleetYaml('>=1.0.0 <2.0.0') }, 'fixed');
    await live('web', 'rev', '2');
    await live('from-oci', 'chart', '1.1.0');
  });

  await t.test('a commit pushed while the agent is offline arrives after it reconnects; a force-push is followed', async (t) => {
    await agent.agent.stop();
    const offline = wc.commit({ 'web/cm.yaml': cmYaml('web', '3-offline') }, 'while offline');
    await waitFor('the server saw the commit', async () => ((await gitrepo('apps'))?.commit === offline ? true : undefined), 60_000);
    t.equal(await cm('web', 'rev'), '2', 'nothing reaches the cluster while the agent is away');
    const restarted = startAgent(agent.dir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV });
    agent = { ...agent, agent: restarted };
    await live('web', 'rev', '3-offline');

    wc.git('reset', '-q', '--hard', first);
    const forced = wc.commit({ 'web/cm.yaml': cmYaml('web', '4-forced'), 'web/fleet.yaml': 'defaultNamespace: private\n', 'oci/fleet.yaml': ociFleetYaml('>=1.0.0 <2.0.0') }, 'rewritten history');
    await live('web', 'rev', '4-forced');
    t.equal((await gitrepo('apps'))?.commit, forced);
  });

  await t.test('SSH with a key and pinned known_hosts; a host key mismatch is refused clearly', async (t) => {
    const swc = workingCopy(bareRepo(ssh.reposDir, 'edge.git'));
    t.teardown(() => swc.remove());
    swc.commit({ 'edge/cm.yaml': cmYaml('edge', 'ssh-1'), 'edge/fleet.yaml': 'defaultNamespace: private\n' }, 'one');
    const key = path.join(dir, 'id_ed25519');
    const hosts = path.join(dir, 'known_hosts');
    writeFileSync(key, ssh.clientKey, { mode: 0o600 });
    writeFileSync(hosts, ssh.knownHosts);
    await ok(['secret', 'create', 'git-ssh', '--type', 'ssh', '--private-key-file', key, '--known-hosts-file', hosts]);
    await ok(['gitrepo', 'add', 'edge', '--repo', ssh.url('edge.git'), '--branch', 'main', '--paths', 'edge', '--poll-interval', '2s', '--client-secret', 'git-ssh']);
    await live('edge', 'rev', 'ssh-1');
    const otherHost = path.join(dir, 'other_known_hosts');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other')]);
    const pub = readFileSync(path.join(dir, 'other.pub'), 'utf8').split(' ');
    writeFileSync(otherHost, `[127.0.0.1]:${ssh.port} ${pub[0]} ${pub[1]}\n`);
    await ok(['secret', 'create', 'git-ssh', '--type', 'ssh', '--private-key-file', key, '--known-hosts-file', otherHost, '--replace']);
    await failsWith('edge', 'edge-edge', 'GIT_HOST_KEY_MISMATCH', ['edge', 'rev', 'ssh-1']);
    const list = await admin(['gitrepo', 'list']);
    t.match(list.stdout, /edge\s.*GIT_HOST_KEY_MISMATCH/, 'gitrepo list shows the code');
  });

  await server.proc.stop();
  t.notMatch(server.proc.output, new RegExp(PASSWORD), 'no password in the server log');
  t.notMatch(server.proc.output, /BEGIN OPENSSH PRIVATE KEY/, 'no key in the server log');
});
