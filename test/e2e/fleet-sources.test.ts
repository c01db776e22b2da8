// Issue 6 acceptance for fleet sources, end to end with real processes: `drover server` (webhook
// secret set), two `drover agent run --roles fleet` on two harness clusters (env=edge,site=a and
// env=edge,site=b), a file:// git repository polled with real git once an hour, so only the webhook
// brings new commits. Covers cluster groups (CLI, targetCustomizations, bundle targets), the push
// webhook (GitHub and GitLab, wrong secrets refused), a Helm chart that stops rendering (error shown,
// earlier revision stays live, the fix clears it), gitrepo list/delete/bad input, and bundles that
// follow a cluster group created later and a relabelled cluster without a new commit.
import t from 'tap';
import path from 'node:path';
import https from 'node:https';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { startCluster, tools, type TestCluster } from '../k8s/harness.ts';
import { drover, startServer, waitFor, type ServerProc, testDir } from './agent-helpers.ts';
import { agentDirIn, fleetServerEnv, joinFleetAgent } from './fleet-helpers.ts';

const SECRET = 'hook-secret-1';

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

interface BundleStatusJson {
  revision: string;
  clusters: { id: string; state: string; message: string; revision?: string }[];
  error?: { code: string; message: string };
}
interface GitRepoJson {
  name: string;
  repo: string;
  branch?: string;
  commit: string | null;
  error: string | null;
  bundles: string[];
  bundleErrors: { bundle: string; code: string; message: string }[];
}

t.test('fleet sources: cluster groups, push webhook, a chart that stops rendering, gitrepo list/delete', async (t) => {
  const [ca, cb] = await Promise.all([startCluster({ nodes: 1 }), startCluster({ nodes: 1 })]);
  t.teardown(() => Promise.all([ca.stop(), cb.stop()]).then(() => undefined));
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server: ServerProc = await startServer(serverDir, 0, fleetServerEnv({ DROVER_FLEET_WEBHOOK_SECRET: SECRET }));
  t.teardown(() => server.proc.stop());

  const join = (cluster: TestCluster, name: string, labels: string) => joinFleetAgent(server, { dir: agentDirIn(dir, name), name, labels, kubeconfig: cluster.kubeconfig });
  const [A, B] = await Promise.all([join(ca, 'site-a-1', 'env=edge,site=a'), join(cb, 'site-b-1', 'env=edge,site=b')]);
  t.teardown(() => Promise.all([A.agent.stop(), B.agent.stop()]).then(() => undefined));

  const kubectl = async (c: { kubeconfig: string }, args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', c.kubeconfig, ...args], { reject: false, timeout: 60_000 });
    return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
  };
  const cmData = async (c: { kubeconfig: string }, name: string, key: string) => {
    const r = await kubectl(c, ['-n', 'fleet-src', 'get', 'configmap', name, '-o', `jsonpath={.data.${key}}`]);
    return r.code === 0 ? r.out : undefined;
  };
  const absent = async (c: { kubeconfig: string }, name: string) => (await kubectl(c, ['-n', 'fleet-src', 'get', 'configmap', name])).code === 1;
  const admin = (args: string[]) => drover([...args, '--data-dir', serverDir]);

  /** One HTTPS request to the server, trusting its CA. Waits poll the API directly: a CLI process per poll is slow on a loaded machine. */
  const caPem = readFileSync(path.join(serverDir, 'tls', 'ca.crt'), 'utf8');
  const adminToken = readFileSync(path.join(serverDir, 'admin-token'), 'utf8').trim();
  type Answer = { status: number; json: { polled?: string[]; error?: { code: string; message: string } } & Record<string, unknown> };
  const request = (method: string, pathname: string, headers: Record<string, string> = {}, body?: Buffer) =>
    new Promise<Answer>((resolve, reject) => {
      const req = https.request(new URL(pathname, server.url), { method, ca: caPem, headers: { ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}), ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || '{}') as Answer['json'] }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const api = async <T>(pathname: string): Promise<T | undefined> => {
    const r = await request('GET', pathname, { authorization: `Bearer ${adminToken}` });
    return r.status === 200 ? (r.json as T) : undefined;
  };
  const webhook = (headers: Record<string, string>, body: Buffer) => request('POST', '/v1/fleet/webhook', headers, body);
  const status = (name: string) => api<BundleStatusJson>(`/v1/fleet/bundles/${name}`);
  /** `drover bundle status NAME --json`, for the assertions on the CLI's contract. */
  const cliStatus = async (name: string) => {
    const r = await admin(['bundle', 'status', name, '--json']);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as BundleStatusJson) : undefined;
  };
  const readyOn = (name: string, ids: string[]) => async () => {
    const s = await status(name);
    if (s && s.clusters.map((c) => c.id).sort().join() === [...ids].sort().join() && s.clusters.every((c) => c.state === 'Ready')) return s;
    // Thrown, so waitFor's timeout message shows where the bundle is stuck.
    throw new Error(`${name}: ${JSON.stringify(s ?? 'no status')}`);
  };
  /** `drover gitrepo list --json` (the CLI adds bundleErrors to the API's rows). */
  const gitrepos = async () => {
    const r = await admin(['gitrepo', 'list', '--json']);
    if (r.exitCode !== 0) throw new Error(`gitrepo list: ${r.stderr}`);
    return JSON.parse(r.stdout) as GitRepoJson[];
  };
  const gitrepo = async (name: string) => (await gitrepos()).find((g) => g.name === name);
  const commitOf = async (name: string) => (await api<{ gitrepos: GitRepoJson[] }>('/v1/fleet/gitrepos'))?.gitrepos.find((g) => g.name === name)?.commit;
  const sign = (b: Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(b).digest('hex')}`;

  // The repository: `grouped` goes to group site-a only, `chart` to group edge (both clusters) with
  // a group value, `web` plain YAML everywhere. ConfigMaps: Ready as soon as they are applied.
  const repo = path.join(dir, 'repo');
  const repoUrl = `file://${repo}`;
  const cm = (name: string, data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {${data}}\n`;
  write(path.join(repo, 'grouped/Chart.yaml'), 'apiVersion: v2\nname: grouped\nversion: 0.1.0\n');
  write(path.join(repo, 'grouped/values.yaml'), 'site: none\n');
  write(path.join(repo, 'grouped/templates/cm.yaml'), cm('grouped', 'site: "{{ .Values.site }}", cluster: "{{ .Values.cluster }}"'));
  write(path.join(repo, 'grouped/fleet.yaml'), [
    'defaultNamespace: fleet-src',
    'targetCustomizations:',
    '- name: group-a',
    '  clusterGroup: site-a',
    '  helm: {values: {site: from-group-a, cluster: "${ .ClusterName }"}}',
    '- name: everyone-else',
    '  clusterSelector: {}',
    '  doNotDeploy: true',
    '',
  ].join('\n'));
  write(path.join(repo, 'chart/Chart.yaml'), 'apiVersion: v2\nname: chart\nversion: 0.1.0\n');
  write(path.join(repo, 'chart/values.yaml'), 'tier: default\nversion: v1\n');
  write(path.join(repo, 'chart/templates/cm.yaml'), cm('chart', 'tier: "{{ .Values.tier }}", version: "{{ .Values.version }}"'));
  write(path.join(repo, 'chart/fleet.yaml'), 'defaultNamespace: fleet-src\ntargetCustomizations:\n- name: edge\n  clusterGroup: edge\n  helm: {values: {tier: edge-group}}\n');
  write(path.join(repo, 'web/cm.yaml'), cm('web', 'rev: "1"'));
  write(path.join(repo, 'web/fleet.yaml'), 'defaultNamespace: fleet-src\n');
  const git = (...args: string[]) => execa('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  const commit = async (msg: string) => {
    await git('add', '-A');
    await git('commit', '-q', '-m', msg);
    return String((await git('rev-parse', 'HEAD')).stdout).trim();
  };
  await execa('git', ['init', '-q', '-b', 'main', repo]);
  const first = await commit('one');

  // Groups exist before the gitrepo: targets are resolved when a commit is rendered.
  const groupsMade = await Promise.all([
    admin(['clustergroup', 'create', 'site-a', '--selector', 'env=edge,site in (a,c)']),
    admin(['clustergroup', 'create', 'edge', '--selector', 'env=edge']),
  ]);
  for (const g of groupsMade) t.equal(g.exitCode, 0, g.stderr);

  // A long poll interval: the first poll runs at once, later commits arrive only by webhook.
  const add = await admin(['gitrepo', 'add', 'src', '--repo', repoUrl, '--branch', 'main', '--paths', 'grouped,chart,web', '--poll-interval', '1h']);
  t.equal(add.exitCode, 0, add.stderr);

  await t.test('cluster groups: list, targetCustomizations by group, bundle targets by group', async (t) => {
    // Independent CLI runs in parallel: each is a Node start-up, slow on a loaded machine.
    const [list, json, bad, badName, unknownGroup] = await Promise.all([
      admin(['clustergroup', 'list']),
      admin(['clustergroup', 'list', '--json']),
      admin(['clustergroup', 'create', 'broken', '--selector', 'site in (a']),
      admin(['clustergroup', 'create', 'Site_A', '--selector', 'site=a']),
      admin(['clustergroup', 'delete', 'nosuch']),
    ]);
    t.equal(list.exitCode, 0, list.stderr);
    t.match(list.stdout, /^NAME\s+SELECTOR$/m);
    t.match(list.stdout, /^edge\s+env=edge$/m);
    t.match(list.stdout, /^site-a\s+env=edge,site In \(a,c\)$/m, 'a set-based selector is shown as parsed');
    const groups = JSON.parse(json.stdout) as { name: string; selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } }[];
    t.same(groups.find((g) => g.name === 'site-a')?.selector, { matchLabels: { env: 'edge' }, matchExpressions: [{ key: 'site', operator: 'In', values: ['a', 'c'] }] });
    t.equal(bad.exitCode, 2, 'a malformed selector is a usage error');
    t.match(bad.stderr, /--selector: SELECTOR_INVALID: selector "site in \(a"/);
    t.equal(badName.exitCode, 2);
    t.match(badName.stderr, /clustergroup name "Site_A" must be a DNS label/);
    t.equal(unknownGroup.exitCode, 1);
    t.match(unknownGroup.stderr, /no cluster group named nosuch/);
    t.same((JSON.parse((await admin(['clustergroup', 'list', '--json'])).stdout) as { name: string }[]).map((g) => g.name).sort(), ['edge', 'site-a'], 'refused groups are not stored');

    const grouped = await waitFor('grouped Ready on site-a only', readyOn('src-grouped', [A.id]), 90_000);
    t.same(grouped.clusters.map((c) => c.id), [A.id], 'the group customization deploys; everyone else is doNotDeploy');
    t.equal(await cmData(A, 'grouped', 'site'), 'from-group-a', 'the group\'s value is live on site-a');
    t.equal(await cmData(A, 'grouped', 'cluster'), 'site-a-1', 'cluster templating in the group\'s values');
    t.ok(await absent(B, 'grouped'), 'nothing on site-b');

    await waitFor('chart Ready on the edge group', readyOn('src-chart', [A.id, B.id]), 60_000);
    t.equal(await cmData(A, 'chart', 'tier'), 'edge-group');
    t.equal(await cmData(B, 'chart', 'tier'), 'edge-group');

    // A pushed bundle targeted at a group by `--target group=NAME`.
    const pushed = path.join(dir, 'pushed');
    write(path.join(pushed, 'cm.yaml'), cm('pushed', 'by: group'));
    const none = await admin(['bundle', 'apply', pushed, '--name', 'pushed', '--namespace', 'fleet-src', '--target', 'group=nosuch']);
    t.equal(none.exitCode, 1, 'an unknown group matches nothing');
    t.match(none.stderr, /TARGET_NO_MATCH/);
    const g3 = await admin(['clustergroup', 'create', 'site-b', '--selector', 'site=b']);
    t.equal(g3.exitCode, 0, g3.stderr);
    const ok = await admin(['bundle', 'apply', pushed, '--name', 'pushed', '--namespace', 'fleet-src', '--target', 'group=site-b']);
    t.equal(ok.exitCode, 0, ok.stderr);
    await waitFor('pushed Ready on site-b only', readyOn('pushed', [B.id]), 60_000);
    t.ok(await absent(A, 'pushed'), 'not on site-a');
    t.equal((await admin(['bundle', 'delete', 'pushed'])).exitCode, 0);
    t.equal((await admin(['clustergroup', 'delete', 'site-b'])).exitCode, 0);
    t.notOk((JSON.parse((await admin(['clustergroup', 'list', '--json'])).stdout) as { name: string }[]).some((g) => g.name === 'site-b'), 'deleted group gone');
    await waitFor('pushed pruned from site-b', () => absent(B, 'pushed'), 60_000);
  });

  await t.test('webhook: a new commit waits for the push; wrong secrets are refused and trigger nothing', async (t) => {
    await waitFor('web Ready on both', readyOn('src-web', [A.id, B.id]), 60_000);
    t.equal(await commitOf('src'), first);
    write(path.join(repo, 'web/cm.yaml'), cm('web', 'rev: "2"'));
    const second = await commit('two');
    // With a 1h interval nothing polls: the gitrepo is still at the first commit.
    t.equal(await commitOf('src'), first, 'polling has not picked up the new commit');

    const push = (after: string) => Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after, repository: { clone_url: repoUrl, html_url: repoUrl } }));
    const body = push(second);
    const wrong = await webhook({ 'x-github-event': 'push', 'x-hub-signature-256': sign(body, 'not-the-secret') }, body);
    t.equal(wrong.status, 401, 'a wrong signature is refused');
    t.equal(wrong.json.error?.code, 'WEBHOOK_UNAUTHORIZED');
    t.match(wrong.json.error?.message, /signature does not match/);
    const unsigned = await webhook({ 'x-github-event': 'push' }, body);
    t.equal(unsigned.status, 401, 'an unsigned push is refused when a secret is set');
    const glBody = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', checkout_sha: second, project: { git_http_url: repoUrl } }));
    const glWrong = await webhook({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' }, glBody);
    t.equal(glWrong.status, 401, 'a wrong GitLab token is refused');
    t.match(glWrong.json.error?.message, /gitlab webhook token does not match/);
    const unknown = await webhook({}, body);
    t.equal(unknown.status, 400, 'a request from no known provider is refused');
    t.equal(unknown.json.error?.code, 'WEBHOOK_INVALID');
    const ping = await webhook({ 'x-github-event': 'ping', 'x-hub-signature-256': sign(body) }, body);
    t.same([ping.status, ping.json.polled], [202, []], 'a signed ping polls nothing');
    // A file:// poll takes well under a second; had any refused request triggered one, the
    // commit would have moved by now. (A sanity window, not a timing assertion.)
    await sleep(2000);
    t.equal(await commitOf('src'), first, 'refused webhooks triggered no poll');
    t.equal(await cmData(A, 'web', 'rev'), '1', 'the live object is unchanged');

    const good = await webhook({ 'x-github-event': 'push', 'x-hub-signature-256': sign(body) }, body);
    t.same([good.status, good.json.polled], [202, ['src']], 'a signed push names the gitrepo it polls');
    await waitFor('web rev 2 on both clusters', async () => (await cmData(A, 'web', 'rev')) === '2' && (await cmData(B, 'web', 'rev')) === '2', 60_000);
    t.equal(await commitOf('src'), second, 'the gitrepo is at the pushed commit');

    // GitLab's token header works as well; a push to another branch polls nothing.
    write(path.join(repo, 'web/cm.yaml'), cm('web', 'rev: "3"'));
    const third = await commit('three');
    const other = Buffer.from(JSON.stringify({ ref: 'refs/heads/dev', after: third, repository: { clone_url: repoUrl } }));
    const otherRes = await webhook({ 'x-github-event': 'push', 'x-hub-signature-256': sign(other) }, other);
    t.same([otherRes.status, otherRes.json.polled], [202, []], 'a push to a branch the gitrepo does not follow polls nothing');
    const gl = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', checkout_sha: third, project: { git_http_url: repoUrl } }));
    const glOk = await webhook({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET }, gl);
    t.same([glOk.status, glOk.json.polled], [202, ['src']]);
    await waitFor('web rev 3 on both clusters', async () => (await cmData(A, 'web', 'rev')) === '3' && (await cmData(B, 'web', 'rev')) === '3', 60_000);
    t.equal(await commitOf('src'), third);
  });

  const poke = async () => {
    const b = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', repository: { clone_url: repoUrl } }));
    const r = await webhook({ 'x-github-event': 'push', 'x-hub-signature-256': sign(b) }, b);
    if (r.status !== 202) throw new Error(`webhook: ${r.status} ${JSON.stringify(r.json)}`);
  };

  await t.test('a chart that stops rendering: clear error, earlier revision stays live, the fix clears it', async (t) => {
    const before = await waitFor('chart Ready', readyOn('src-chart', [A.id, B.id]), 60_000);
    write(path.join(repo, 'chart/templates/cm.yaml'), cm('chart', 'tier: "{{ .Values.tier }}", version: v2, greeting: "{{ required "chart needs .Values.greeting" .Values.greeting }}"'));
    const broken = await commit('chart needs a greeting');
    await poke();
    await waitFor('chart reports the render error', async () => (await status('src-chart'))?.error, 60_000);
    const s = await cliStatus('src-chart');
    t.equal(s?.error?.code, 'HELM_RENDER_FAILED', s?.error?.message ?? 'no error');
    t.match(s?.error?.message, /chart needs \.Values\.greeting/, 'helm\'s own message names the problem');
    t.match(s?.error?.message, /templates\/cm\.yaml/, 'and the template');
    t.equal(s?.revision, before.revision, 'the earlier revision stays the bundle\'s revision');
    t.same(s?.clusters.map((c) => [c.id, c.state, c.revision]), before.clusters.map((c) => [c.id, 'Ready', c.revision]), 'both clusters stay Ready at their earlier revision');
    t.equal(await cmData(A, 'chart', 'version'), 'v1', 'the live object is untouched');
    t.equal(await cmData(B, 'chart', 'greeting'), '', 'nothing of the broken revision applied');
    const other = await status('src-web');
    t.notOk(other?.error, 'other bundles of the same commit are unaffected');

    const g = await gitrepo('src');
    t.equal(g?.commit, broken, 'the gitrepo is at the broken commit');
    t.same(g?.bundleErrors.map((e) => [e.bundle, e.code]), [['src-chart', 'HELM_RENDER_FAILED']], 'gitrepo list --json names the failing bundle');
    t.match(g?.bundleErrors[0]?.message, /chart needs \.Values\.greeting/);
    const human = await admin(['gitrepo', 'list']);
    t.match(human.stdout, /^src\s.*src-chart: HELM_RENDER_FAILED$/m, 'the ERROR column names bundle and code');
    t.match(human.stdout, /^ {2}src-chart: HELM_RENDER_FAILED: .*chart needs \.Values\.greeting/m, 'the full message is printed below');
    const bundleHuman = await admin(['bundle', 'status', 'src-chart']);
    t.match(bundleHuman.stdout, /^error: +HELM_RENDER_FAILED: .*chart needs \.Values\.greeting/m);

    write(path.join(repo, 'chart/values.yaml'), 'tier: default\nversion: v1\ngreeting: hello\n');
    const fixed = await commit('chart gets its greeting');
    await poke();
    const after = await waitFor('chart fixed and Ready at a new revision', async () => {
      const x = await readyOn('src-chart', [A.id, B.id])();
      return !x.error && x.revision !== before.revision ? x : undefined;
    }, 60_000);
    t.notOk(after.error, 'the error is cleared');
    await waitFor('greeting live on both', async () => (await cmData(A, 'chart', 'greeting')) === 'hello' && (await cmData(B, 'chart', 'greeting')) === 'hello', 60_000);
    t.equal(await cmData(A, 'chart', 'version'), 'v2');
    const g2 = await gitrepo('src');
    t.same([g2?.commit, g2?.bundleErrors], [fixed, []], 'gitrepo list is clean again');
    t.match((await admin(['gitrepo', 'list'])).stdout, /^src\s.*\s-$/m, 'no error in the table');
  });

  await t.test('gitrepo list, delete with pruning, unknown names and bad input', async (t) => {
    const head = String((await git('rev-parse', 'HEAD')).stdout).trim();
    const list = await admin(['gitrepo', 'list']);
    t.equal(list.exitCode, 0, list.stderr);
    t.match(list.stdout, /^NAME\s+REPO\s+REF\s+COMMIT\s+TARGETS\s+BUNDLES\s+ERROR$/m);
    t.match(list.stdout, new RegExp(`^src\\s+${repoUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+main\\s+${head.slice(0, 12)}\\s+all\\s+src-chart,src-grouped,src-web\\s+-$`, 'm'));
    const g = await gitrepo('src');
    t.same([g?.repo, g?.branch, g?.commit, [...(g?.bundles ?? [])].sort(), g?.error], [repoUrl, 'main', head, ['src-chart', 'src-grouped', 'src-web'], null]);

    const [noRepo, badInterval, zero, badName, unknown] = await Promise.all([
      admin(['gitrepo', 'add', 'x1']),
      admin(['gitrepo', 'add', 'x2', '--repo', repoUrl, '--poll-interval', 'soon']),
      admin(['gitrepo', 'add', 'x3', '--repo', repoUrl, '--poll-interval', '0s']),
      admin(['gitrepo', 'add', 'Bad_Name', '--repo', repoUrl]),
      admin(['gitrepo', 'delete', 'nosuch']),
    ]);
    t.equal(noRepo.exitCode, 2, 'missing --repo is a usage error');
    t.match(noRepo.stderr, /required option '--repo <url>' not specified/);
    t.equal(badInterval.exitCode, 2);
    t.match(badInterval.stderr, /--poll-interval must look like 30s, 5m or 1h, got soon/);
    t.equal(zero.exitCode, 2);
    t.match(zero.stderr, /between 1s and 24h/);
    t.equal(badName.exitCode, 2);
    t.match(badName.stderr, /gitrepo name "Bad_Name" must be a DNS label/);
    t.equal(unknown.exitCode, 1, 'deleting an unknown gitrepo fails');
    t.match(unknown.stderr, /no gitrepo named nosuch/);
    t.same((await gitrepos()).map((x) => x.name), ['src'], 'bad input stored nothing');

    const del = await admin(['gitrepo', 'delete', 'src']);
    t.equal(del.exitCode, 0, del.stderr);
    t.match(del.stdout, /deleted gitrepo src/);
    t.same(await gitrepos(), [], 'the gitrepo is gone');
    const bundles = JSON.parse((await admin(['bundle', 'list', '--json'])).stdout) as { name: string }[];
    t.same(bundles.filter((b) => b.name.startsWith('src-')), [], 'its bundles are gone');
    t.equal((await admin(['bundle', 'status', 'src-web'])).exitCode, 1);
    await waitFor('objects pruned from both clusters', async () =>
      (await absent(A, 'web')) && (await absent(B, 'web')) && (await absent(A, 'chart')) && (await absent(B, 'chart')) && (await absent(A, 'grouped')), 60_000);
    t.pass('the agents pruned every object of the gitrepo');
    // A webhook for the deleted gitrepo's repository now polls nothing.
    const b = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', repository: { clone_url: repoUrl } }));
    const r = await webhook({ 'x-github-event': 'push', 'x-hub-signature-256': sign(b) }, b);
    t.same([r.status, r.json.polled], [202, []]);
  });

  await t.test('retargeting without a commit: a group created later, a cluster relabelled', async (t) => {
    // `late` customizes for a group that does not exist yet (the bundle fails with TARGET_NO_MATCH);
    // `tagged` deploys only where canary=yes, which no cluster has yet (it deploys nowhere).
    write(path.join(repo, 'late/cm.yaml'), cm('late', 'by: group'));
    write(path.join(repo, 'late/fleet.yaml'), 'defaultNamespace: fleet-src\ntargetCustomizations:\n- name: later\n  clusterGroup: later\n- name: rest\n  clusterSelector: {}\n  doNotDeploy: true\n');
    write(path.join(repo, 'tagged/cm.yaml'), cm('tagged', 'by: label'));
    write(path.join(repo, 'tagged/fleet.yaml'), 'defaultNamespace: fleet-src\ntargetCustomizations:\n- name: canary\n  clusterSelector: {matchLabels: {canary: "yes"}}\n- name: rest\n  clusterSelector: {}\n  doNotDeploy: true\n');
    const head = await commit('late and tagged');
    // 1h interval: after the first poll only retargeting (or a webhook, not sent here) renders again.
    const add = await admin(['gitrepo', 'add', 'rt', '--repo', repoUrl, '--branch', 'main', '--paths', 'late,tagged', '--poll-interval', '1h']);
    t.equal(add.exitCode, 0, add.stderr);
    const failing = await waitFor('late fails for its missing group', async () => (await gitrepo('rt'))?.bundleErrors.find((e) => e.bundle === 'rt-late'), 60_000);
    t.equal(failing.code, 'TARGET_NO_MATCH');
    t.match(failing.message, /cluster group "later" does not exist/);
    const tagged = await waitFor('tagged stored, on no cluster', async () => {
      const s = await status('rt-tagged');
      return s?.revision ? s : undefined;
    }, 60_000);
    t.same(tagged?.clusters, [], 'no cluster has canary=yes');

    const g = await admin(['clustergroup', 'create', 'later', '--selector', 'site=b']);
    t.equal(g.exitCode, 0, g.stderr);
    const late = await waitFor('late Ready on site-b after the group is created', readyOn('rt-late', [B.id]), 30_000);
    t.notOk(late.error, 'the TARGET_NO_MATCH error is cleared');
    t.equal(await cmData(B, 'late', 'by'), 'group', 'the object is live on site-b');
    t.ok(await absent(A, 'late'), 'site-a is not in the group');
    const afterGroup = await gitrepo('rt');
    t.same([afterGroup?.commit, afterGroup?.bundleErrors], [head, []], 'same commit, no bundle error left');

    const label = await admin(['cluster', 'label', A.id, 'canary=yes']);
    t.equal(label.exitCode, 0, label.stderr);
    t.match(label.stdout, /canary=yes/);
    await waitFor('tagged Ready on the relabelled site-a', readyOn('rt-tagged', [A.id]), 30_000);
    t.equal(await cmData(A, 'tagged', 'by'), 'label', 'the object is live on site-a');
    t.ok(await absent(B, 'tagged'), 'not on site-b');

    const unlabel = await admin(['cluster', 'label', A.id, 'canary-']);
    t.equal(unlabel.exitCode, 0, unlabel.stderr);
    t.notMatch(unlabel.stdout, /canary/);
    await waitFor('tagged pruned from site-a once the label is gone', () => absent(A, 'tagged'), 30_000);
    t.same((await status('rt-tagged'))?.clusters, [], 'the bundle targets no cluster again');
    t.equal(await commitOf('rt'), head, 'all of it without a new commit');
  });
  await t.test("Fleet's own GitRepo and ClusterGroup YAML: applied as they are, shown back as a GitRepo", async (t) => {
    write(path.join(repo, 'imported/cm.yaml'), cm('imported', 'by: fleet-yaml'));
    write(path.join(repo, 'imported/fleet.yaml'), 'defaultNamespace: fleet-src\n');
    await commit('a path for the imported GitRepo');
    const file = path.join(dir, 'fleet-objects.yaml');
    writeFileSync(file, [
      'apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\nmetadata: {name: only-b, namespace: fleet-default}\nspec: {selector: {matchLabels: {site: b}}}',
      `apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata: {name: imp, namespace: fleet-default}\nspec:\n  repo: ${repoUrl}\n  branch: main\n  paths: [imported]\n  pollingInterval: 1h\n  serviceAccount: deployer\n  targets: [{name: b, clusterGroup: only-b}]`,
    ].join('\n---\n'));
    const applied = await admin(['gitrepo', 'apply', '-f', file]);
    t.equal(applied.exitCode, 0, applied.stderr);
    t.match(applied.stderr, /warning: .*spec\.serviceAccount is ignored/, 'what Drover ignores is said');
    await waitFor('imported Ready on site-b only', readyOn('imp-imported', [B.id]), 60_000);
    t.equal(await cmData(B, 'imported', 'by'), 'fleet-yaml');
    t.ok(await absent(A, 'imported'), 'the ClusterGroup from the file decided');
    const back = await admin(['gitrepo', 'get', 'imp', '-o', 'yaml']);
    t.equal(back.exitCode, 0, back.stderr);
    t.match(back.stdout, /kind: GitRepo[\s\S]*pollingInterval: 3600s[\s\S]*clusterGroup: only-b/);
    const refused = path.join(dir, 'refused.yaml');
    writeFileSync(refused, `apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata: {name: priv}\nspec: {repo: ${repoUrl}, helmSecretNameForPaths: creds}\n`);
    const no = await admin(['gitrepo', 'apply', '-f', refused]);
    t.equal(no.exitCode, 1);
    t.match(no.stderr, /nothing applied:[\s\S]*helmSecretNameForPaths is not supported/);
    t.notOk(await gitrepo('priv'), 'nothing was created');
    t.equal((await admin(['gitrepo', 'delete', 'imp'])).exitCode, 0);
  });
});
