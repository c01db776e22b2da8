// Issue 6 acceptance, wired end to end with real processes: `drover server`, three `drover agent run
// --roles fleet` on three harness clusters (two env=edge, one env=core), a file:// git repository
// polled with real git, rendered with the built helm and kustomize. Bundles land only where
// targeted with per-target values; drift is corrected with the server down, also after the agent
// restarts; a revision committed while the server was down is applied after it comes back, and the
// outbox drains in order (what the agent recorded offline reaches the server, in sequence); bad
// input is refused with clear errors and leaves the earlier revision in place.
import t from 'tap';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools, type TestCluster } from '../k8s/harness.ts';
import { agentStatus as rawAgentStatus, drover, startAgent, startServer, waitFor, type ServerProc, testDir } from './agent-helpers.ts';
import { agentDirIn, fleetServerEnv, FLEET_AGENT_ENV, joinFleetAgent } from './fleet-helpers.ts';

const deployment = (name: string, replicas: number | string, extra = '', ns = 'fleet-demo'): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}${extra}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: registry.example/${name}:1}]}
`;

interface FleetAgentStatus {
  clusterId: string;
  roles: { name: string; state: string }[];
  bundles: { name: string; state: string; revision: string; appliedAt: string | null }[];
  outbox: number;
}
const agentStatus = async (d: string): Promise<FleetAgentStatus> => (await rawAgentStatus(d)) as unknown as FleetAgentStatus;

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

t.test('fleet: gitrepo bundles targeted, offline drift correction, revision after reconnect, bad input', async (t) => {
  const [edge1, edge2, core] = await Promise.all([startCluster({ nodes: 1 }), startCluster({ nodes: 1 }), startCluster({ nodes: 1 })]);
  t.teardown(() => Promise.all([edge1.stop(), edge2.stop(), core.stop()]).then(() => undefined));
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const serverEnv = fleetServerEnv();
  let server: ServerProc = await startServer(serverDir, 0, serverEnv);
  t.teardown(() => server.proc.stop());
  const agentEnv = { ...FLEET_AGENT_ENV };

  const join = (cluster: TestCluster, name: string, env: string) => joinFleetAgent(server, { dir: agentDirIn(dir, name), name, labels: `env=${env}`, kubeconfig: cluster.kubeconfig });
  const E = await join(edge1, 'edge-1', 'edge');
  const E2 = await join(edge2, 'edge-2', 'edge');
  const C = await join(core, 'core-1', 'core');
  t.teardown(() => Promise.all([E.agent.stop(), E2.agent.stop(), C.agent.stop()]).then(() => undefined));

  const kubectl = async (c: { kubeconfig: string }, args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', c.kubeconfig, ...args], { reject: false, timeout: 60_000 });
    return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
  };
  const jsonpath = async (c: { kubeconfig: string }, obj: string, expr: string, ns = 'fleet-demo') => (await kubectl(c, ['-n', ns, 'get', obj, '-o', `jsonpath=${expr}`])).out;
  const admin = (args: string[]) => drover([...args, '--data-dir', serverDir]);
  const status = async (name: string) => {
    const r = await admin(['bundle', 'status', name, '--json']);
    return r.exitCode === 0 ? (JSON.parse(r.stdout) as { revision: string; clusters: { id: string; state: string; message: string; revision?: string }[]; error?: { code: string; message: string } }) : undefined;
  };
  const allReady = (name: string, n: number) => async () => {
    const s = await status(name);
    if (s && s.clusters.length === n && s.clusters.every((c) => c.state === 'Ready')) return s;
    // Thrown, so waitFor's timeout message shows where the bundle is stuck.
    throw new Error(`${name}: ${JSON.stringify(s ?? 'no status')}`);
  };

  // The repository: plain YAML (edge only, drift corrected), Helm with per-target values, kustomize.
  const repo = path.join(dir, 'repo');
  write(path.join(repo, 'plain/namespace.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: fleet-demo}\n');
  write(path.join(repo, 'plain/web.yaml'), deployment('web', 2));
  write(path.join(repo, 'plain/fleet.yaml'), 'correctDrift: {enabled: true}\ntargetCustomizations:\n- name: not-core\n  clusterSelector: {matchLabels: {env: core}}\n  doNotDeploy: true\n');
  write(path.join(repo, 'chart/Chart.yaml'), 'apiVersion: v2\nname: api\nversion: 0.1.0\n');
  write(path.join(repo, 'chart/values.yaml'), 'replicas: 1\ntier: default\n');
  // Each bundle brings its own namespace: bundles own disjoint objects.
  write(path.join(repo, 'chart/templates/namespace.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: fleet-api}\n');
  write(path.join(repo, 'chart/templates/deploy.yaml'), deployment('api', '{{ .Values.replicas }}', ', labels: {tier: "{{ .Values.tier }}", env: "{{ .Values.global.fleet.clusterLabels.env }}"}', 'fleet-api'));
  write(path.join(repo, 'chart/fleet.yaml'), [
    'defaultNamespace: fleet-api',
    'correctDrift: {enabled: true}',
    'helm: {releaseName: api}',
    'targetCustomizations:',
    '- name: edge',
    '  clusterSelector: {matchLabels: {env: edge}}',
    '  helm: {values: {replicas: 2, tier: edge-tier}}',
    '- name: core',
    '  clusterSelector: {matchLabels: {env: core}}',
    '  helm: {values: {replicas: 3, tier: core-tier}}',
    '',
  ].join('\n'));
  // The kustomize bundle declares no Namespace: its defaultNamespace is created on each cluster, as Fleet does.
  write(path.join(repo, 'kust/base/cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: base}\n');
  write(path.join(repo, 'kust/base/kustomization.yaml'), 'resources: [cm.yaml]\n');
  write(path.join(repo, 'kust/kustomization.yaml'), 'resources: [base]\ncommonLabels: {managed: kustomize}\n');
  write(path.join(repo, 'kust/fleet.yaml'), 'defaultNamespace: fleet-kust\n');
  const git = (...args: string[]) => execa('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  await execa('git', ['init', '-q', '-b', 'main', repo]);
  await git('add', '-A');
  await git('commit', '-q', '-m', 'one');

  const add = await admin(['gitrepo', 'add', 'demo', '--repo', `file://${repo}`, '--branch', 'main', '--paths', 'plain,chart,kust', '--poll-interval', '2s']);
  t.equal(add.exitCode, 0, `gitrepo add: ${add.stderr}`);

  await t.test('bundles land only where targeted, with per-target values, and reach Ready', async (t) => {
    const plain = await waitFor('plain Ready on the two edge clusters only', allReady('demo-plain', 2), 120_000);
    t.same(plain.clusters.map((c) => c.id).sort(), [E.id, E2.id].sort(), 'plain targets edge only');
    await waitFor('chart Ready on all three', allReady('demo-chart', 3), 120_000);
    await waitFor('kust Ready on all three', allReady('demo-kust', 3), 120_000);
    t.equal((await kubectl(C, ['-n', 'fleet-demo', 'get', 'deployment', 'web'])).code, 1, 'web is not on core');
    for (const edge of [E, E2]) {
      t.equal(await jsonpath(edge, 'deployment/web', '{.status.availableReplicas}'), '2', 'web Available on edge');
      t.equal(await jsonpath(edge, 'deployment/api', '{.spec.replicas}/{.metadata.labels.tier}/{.metadata.labels.env}', 'fleet-api'), '2/edge-tier/edge');
      t.equal(await jsonpath(edge, 'deployment/api', '{.status.availableReplicas}', 'fleet-api'), '2', 'api Available on edge');
    }
    t.equal(await jsonpath(C, 'deployment/api', '{.spec.replicas}/{.metadata.labels.tier}/{.metadata.labels.env}', 'fleet-api'), '3/core-tier/core');
    t.equal(await jsonpath(C, 'deployment/api', '{.status.availableReplicas}', 'fleet-api'), '3', 'api Available on core');
    for (const c of [E, E2, C]) {
      t.equal(await jsonpath(c, 'configmap/settings', '{.metadata.labels.managed}', 'fleet-kust'), 'kustomize');
      t.equal(await jsonpath(c, 'namespace/fleet-kust', '{.metadata.labels.app\\.kubernetes\\.io/created-by}', 'default'), 'drover', 'the undeclared namespace was created');
    }
    const st = await agentStatus(E.dir);
    t.same(st.bundles.map((b) => b.name).sort(), ['demo-chart', 'demo-kust', 'demo-plain'], 'agent status lists its bundles');
  });

  await t.test('a fleet.yaml change that changes no manifest (correctDrift off, then on) still reaches the agents', async (t) => {
    const plainYaml = (drift: boolean) => `correctDrift: {enabled: ${drift}}\ntargetCustomizations:\n- name: not-core\n  clusterSelector: {matchLabels: {env: core}}\n  doNotDeploy: true\n`;
    const before = (await status('demo-plain'))?.revision;
    write(path.join(repo, 'plain/fleet.yaml'), plainYaml(false));
    await git('commit', '-q', '-am', 'drift off');
    await waitFor('gitrepo polled the commit', async () => {
      const r = JSON.parse((await admin(['gitrepo', 'list', '--json'])).stdout) as { name: string; commit: string }[];
      return r[0]?.commit === (await git('rev-parse', 'HEAD')).stdout.trim();
    }, 60_000);
    t.equal((await status('demo-plain'))?.revision, before, 'no manifest changed, so neither did the revision');
    // Edited until the agent reports it Modified: while its stored options still say correctDrift,
    // it puts replicas back, and the edit is made again.
    const modified = await waitFor('web reported Modified, not corrected', async () => {
      await kubectl(E, ['-n', 'fleet-demo', 'scale', 'deployment', 'web', '--replicas=4']);
      const x = await status('demo-plain');
      const c = x?.clusters.find((y) => y.id === E.id);
      return c?.state === 'Modified' ? c : undefined;
    }, 60_000);
    t.match(modified.message, /web modified \/spec\/replicas/);
    t.equal(await jsonpath(E, 'deployment/web', '{.spec.replicas}'), '4', 'left as edited');
    write(path.join(repo, 'plain/fleet.yaml'), plainYaml(true));
    await git('commit', '-q', '-am', 'drift on');
    await waitFor('web corrected once correctDrift is back', async () => (await jsonpath(E, 'deployment/web', '{.spec.replicas}')) === '2', 60_000);
    await waitFor('plain Ready again', allReady('demo-plain', 2), 60_000);
  });

  await t.test('offline: drift corrected with the server down, also after an agent restart; new revision after reconnect', async (t) => {
    await server.proc.stop();
    const offlineSince = new Date().toISOString();
    await kubectl(E, ['-n', 'fleet-demo', 'delete', 'deployment', 'web', '--wait=false']);
    await kubectl(C, ['-n', 'fleet-api', 'scale', 'deployment', 'api', '--replicas=1']);
    await waitFor('web re-created on edge', async () => (await jsonpath(E, 'deployment/web', '{.spec.replicas}')) === '2', 60_000);
    await waitFor('api replicas restored on core', async () => (await jsonpath(C, 'deployment/api', '{.spec.replicas}', 'fleet-api')) === '3', 60_000);
    t.pass('both drifts corrected with no server');

    await E.agent.stop();
    E.agent = startAgent(E.dir, ['--roles', 'fleet'], agentEnv);
    await kubectl(E, ['-n', 'fleet-api', 'scale', 'deployment', 'api', '--replicas=5']);
    await waitFor('api replicas restored on edge by the restarted agent', async () => (await jsonpath(E, 'deployment/api', '{.spec.replicas}', 'fleet-api')) === '2', 60_000);
    t.pass('a restarted agent corrects drift while the server is still down');

    // A new revision is committed while the server is down.
    write(path.join(repo, 'plain/web.yaml'), deployment('web', 3));
    await git('commit', '-q', '-am', 'two');
    const offlineUntil = new Date().toISOString();
    server = await startServer(serverDir, server.port, serverEnv);
    await waitFor('web at 3 replicas after reconnect', async () => (await jsonpath(E, 'deployment/web', '{.spec.replicas}')) === '3' && (await jsonpath(E2, 'deployment/web', '{.spec.replicas}')) === '3', 60_000);
    const plain = await waitFor('plain Ready at the new revision', allReady('demo-plain', 2), 60_000);
    const st = await waitFor('edge outbox drained', async () => {
      const s = await agentStatus(E.dir);
      return s.outbox === 0 && s.bundles.find((b) => b.name === 'demo-plain')?.revision === plain.clusters[0]?.revision ? s : undefined;
    }, 60_000);
    t.equal(st.bundles.find((b) => b.name === 'demo-plain')?.state, 'Ready', 'agent and server agree on state and revision');
    t.equal(st.bundles.find((b) => b.name === 'demo-plain')?.appliedAt !== null, true, 'the new revision was applied');

    // In order and complete: the drift the agent recorded while the server was down reached the
    // server after it (a batch out of order would have been dropped by the seq de-duplication).
    const ev = await admin(['bundle', 'events', 'demo-plain', '--cluster', 'edge-1', '--limit', '500', '--json']);
    t.equal(ev.exitCode, 0, ev.stderr);
    const events = JSON.parse(ev.stdout) as { seq: number; state: string; message: string; revision: string; at: string | null }[];
    const seqs = events.map((e) => e.seq);
    t.same(seqs, [...seqs].sort((a, b) => a - b), 'events arrive in the agent\'s sequence order');
    t.equal(new Set(seqs).size, seqs.length, 'each once');
    const offline = events.filter((e) => e.at !== null && e.at > offlineSince && e.at < offlineUntil);
    t.ok(offline.some((e) => e.state === 'Modified' && /Deployment fleet-demo\/web missing/.test(e.message)), `the deletion seen offline is reported: ${JSON.stringify(offline)}`);
    t.equal(events.at(-1)?.state, 'Ready', 'the newest event is the state the server shows');
    t.equal(events.at(-1)?.revision, plain.clusters[0]?.revision);
    const human = await admin(['bundle', 'events', 'demo-plain', '--cluster', 'edge-1']);
    t.match(human.stdout, /AT \(AGENT\)\s+RECEIVED\s+CLUSTER\s+SEQ\s+STATE/, 'a table for people');
    const unknown = await admin(['bundle', 'events', 'demo-plain', '--cluster', 'nowhere']);
    t.not(unknown.exitCode, 0);
    t.match(unknown.stderr, /CLUSTER_NOT_FOUND/);
  });

  await t.test('offline clusters show Offline, never a stale Ready', async (t) => {
    await C.agent.stop();
    const s = await waitFor('core Offline', async () => {
      const x = await status('demo-chart');
      return x?.clusters.find((c) => c.id === C.id)?.state === 'Offline' ? x : undefined;
    }, 30_000);
    t.equal(s.clusters.find((c) => c.id === E.id)?.state, 'Ready');
    C.agent = startAgent(C.dir, ['--roles', 'fleet'], agentEnv);
    await waitFor('core back to Ready', allReady('demo-chart', 3), 60_000);
  });

  await t.test('bad input: clear errors, nothing half-applied, earlier revisions untouched', async (t) => {
    const before = await status('demo-plain');
    write(path.join(repo, 'plain/broken.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken\n  data: [unclosed\n');
    await git('add', '-A');
    await git('commit', '-q', '-m', 'broken');
    const s = await waitFor('plain reports the YAML error', async () => {
      const x = await status('demo-plain');
      return x?.error ? x : undefined;
    }, 60_000);
    t.equal(s.error?.code, 'MANIFEST_INVALID', s.error?.message ?? '');
    t.equal(s.revision, before?.revision, 'the earlier revision stays');
    t.equal((await kubectl(E, ['-n', 'fleet-demo', 'get', 'configmap', 'broken'])).code, 1, 'nothing of the bad revision applied');

    const pushed = path.join(dir, 'pushed');
    write(path.join(pushed, 'fleet.yaml'), 'helmm: {chart: x}\n');
    write(path.join(pushed, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pushed, namespace: fleet-demo}\n');
    const unknown = await admin(['bundle', 'apply', pushed, '--name', 'pushed', '--strict']);
    t.equal(unknown.exitCode, 1);
    t.match(unknown.stderr, /FLEET_YAML_UNKNOWN_KEY.*"helmm".*did you mean "helm"/, 'with --strict an unknown fleet.yaml key is refused, naming the near miss');

    write(path.join(pushed, 'fleet.yaml'), 'defaultNamespace: fleet-demo\n');
    const nomatch = await admin(['bundle', 'apply', pushed, '--name', 'nowhere', '--target', 'env=nowhere']);
    t.equal(nomatch.exitCode, 0, 'a target matching nothing is allowed, as in Fleet');
    t.match(nomatch.stderr, /warning: bundle nowhere: target "selector env=nowhere" matches no cluster/, 'with a warning naming the selector');
    const listed = await admin(['bundle', 'list']);
    t.match(listed.stdout, /nowhere\s+\S+\s+Pending\s+0\/0\s+2 warning\(s\)/, 'bundle list does not call it Ready');
    t.equal((await admin(['bundle', 'delete', 'nowhere'])).exitCode, 0);

    const ok = await admin(['bundle', 'apply', pushed, '--name', 'pushed', '--target', 'env=edge']);
    t.equal(ok.exitCode, 0, ok.stderr);
    const history = JSON.parse((await admin(['bundle', 'history', 'pushed', '--json'])).stdout) as { revision: string | null; error: { code: string } | null; clusters: number }[];
    t.same(history.map((h) => [h.error?.code ?? 'stored', h.clusters]), [['FLEET_YAML_UNKNOWN_KEY', 0], ['stored', 2]], 'bundle history: the refused source, then the revision stored for both clusters');
    await waitFor('pushed Ready', allReady('pushed', 2), 60_000);
    const del = await admin(['bundle', 'delete', 'pushed']);
    t.equal(del.exitCode, 0);
    await waitFor('pushed pruned', async () => (await kubectl(E, ['-n', 'fleet-demo', 'get', 'configmap', 'pushed'])).code === 1, 60_000);
    t.pass('a deleted bundle is pruned');
  });
});
