// The core scenarios of issue 16's version-skew acceptance, for one pairing of builds (server of
// one release, agent of another) on a real harness control plane: register, connect (every role),
// kubectl through the server, a bundle Ready, drift corrected while the server is down, status on
// both sides after the reconnect. Each step is a subtest, so a failure names the step and pairing.
import type { Test } from 'tap';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { startServer, waitFor, type ServerProc, testDir } from '../e2e/agent-helpers.ts';
import { fleetServerEnv, FLEET_AGENT_ENV } from '../e2e/fleet-helpers.ts';
import { agentStatusOf, createTokenOf, run, startAgentOf, waitRoles, type Build } from './skew-helpers.ts';

interface BundleStatus {
  clusters: { id: string; state: string; message: string }[];
}

const BUNDLE = {
  // Fleet corrects drift only when asked (as Fleet does).
  'fleet.yaml': 'correctDrift: {enabled: true}\n',
  'app.yaml': `apiVersion: v1
kind: ConfigMap
metadata: {name: skew-app}
data: {release: "skew"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: skew-web}
spec:
  replicas: 1
  selector: {matchLabels: {app: skew-web}}
  template:
    metadata: {labels: {app: skew-web}}
    spec: {containers: [{name: web, image: registry.example/web:1}]}
`,
};

export async function coreScenarios(t: Test, server: Build, agent: Build): Promise<void> {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  // Both at once: the control plane's start is most of this file's setup time.
  const [cluster, first] = await Promise.all([startCluster({ nodes: 1 }), startServer(serverDir, 0, fleetServerEnv(), '127.0.0.1', server.bin)]);
  let srv: ServerProc = first;
  t.teardown(() => cluster.stop());
  t.teardown(() => srv.proc.stop());
  const admin = async (args: string[]): Promise<string> => {
    const r = await run(server, [...args, '--data-dir', serverDir]);
    if (r.exitCode !== 0) throw new Error(`${server.what}: drover ${args.join(' ')} (${r.exitCode}): ${r.stderr}`);
    return r.stdout;
  };
  const kubectl = async (kubeconfig: string, args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', kubeconfig, ...args], { reject: false, timeout: 60_000 });
    return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
  };
  t.match(JSON.parse((await run(server, ['version', '--json'])).stdout), { version: server.version }, `the server is the ${server.what} build`);

  let clusterId = '';
  await t.test(`register: ${agent.what} agent with ${server.what} server`, async (t) => {
    const token = await createTokenOf(server, serverDir, ['--labels', 'env=skew']);
    const r = await run(agent, ['agent', 'register', '--server', srv.url, '--token', token, '--name', 'skew-site', '--labels', 'env=skew', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
    t.equal(r.exitCode, 0, r.exitCode === 0 ? 'registered' : r.stderr);
    const s = await agentStatusOf(agent, agentDir);
    t.equal(s.version, agent.version, `the agent is the ${agent.what} build`);
    clusterId = s.clusterId;
    t.ok(clusterId, 'the agent holds a cluster id');
  });

  const proc = startAgentOf(agent, agentDir, [], { ...FLEET_AGENT_ENV });
  t.teardown(() => proc.stop());

  await t.test('connect: every role connected; the server lists the cluster Connected', async (t) => {
    const s = await waitRoles(agent, agentDir, 'connected');
    t.same(s.roles.map((r) => r.name).sort(), ['cluster', 'fleet', 'node']);
    const listed = await waitFor('cluster Connected with facts', async () => {
      const c = (JSON.parse(await admin(['cluster', 'list', '--json'])) as { id: string; state: string; kubernetesVersion: string | null }[]).find((x) => x.id === clusterId);
      return c?.state === 'Connected' && c.kubernetesVersion ? c : undefined;
    }, 60_000);
    t.match(listed.kubernetesVersion, /^v1\./, 'facts from the agent reached the server');
  });

  await t.test('proxy: kubectl through the server', async (t) => {
    const kc = path.join(dir, 'kubeconfig-through-drover');
    writeFileSync(kc, await admin(['kubeconfig', clusterId]));
    const ns = await kubectl(kc, ['get', 'namespaces', '-o', 'name']);
    t.equal(ns.code, 0, ns.err);
    t.match(ns.out, /namespace\/kube-system/);
    const created = await kubectl(kc, ['-n', 'default', 'create', 'configmap', 'via-proxy', '--from-literal=by=kubectl']);
    t.equal(created.code, 0, created.err);
    const direct = await kubectl(cluster.kubeconfig, ['-n', 'default', 'get', 'configmap', 'via-proxy', '-o', 'jsonpath={.data.by}']);
    t.equal(direct.out, 'kubectl', 'the write through the server reached the cluster');
  });

  const bundleStatus = async (): Promise<BundleStatus> => JSON.parse(await admin(['bundle', 'status', 'skew', '--json'])) as BundleStatus;
  const readyAtServer = (what: string) => waitFor(what, async () => {
    const s = await bundleStatus();
    if (s.clusters.length === 1 && s.clusters[0]?.state === 'Ready') return s;
    throw new Error(JSON.stringify(s.clusters));
  }, 120_000);

  await t.test('bundle: Ready on the cluster', async (t) => {
    const bundleDir = path.join(dir, 'bundle');
    mkdirSync(bundleDir);
    for (const [name, text] of Object.entries(BUNDLE)) writeFileSync(path.join(bundleDir, name), text);
    await admin(['bundle', 'apply', bundleDir, '--name', 'skew', '--namespace', 'default', '--target', 'env=skew']);
    const s = await readyAtServer('bundle skew Ready');
    t.equal(s.clusters[0]?.id, clusterId);
    const cm = await kubectl(cluster.kubeconfig, ['-n', 'default', 'get', 'configmap', 'skew-app', '-o', 'jsonpath={.data.release}']);
    t.equal(cm.out, 'skew', 'the bundle object is live');
  });

  await t.test('offline drift: with the server down the agent restores a deleted object', async (t) => {
    const port = srv.port;
    await srv.proc.stop();
    await waitRoles(agent, agentDir, 'disconnected');
    const del = await kubectl(cluster.kubeconfig, ['-n', 'default', 'delete', 'configmap', 'skew-app']);
    t.equal(del.code, 0, del.err);
    await waitFor('skew-app restored by the agent (server down)', async () => {
      const r = await kubectl(cluster.kubeconfig, ['-n', 'default', 'get', 'configmap', 'skew-app', '-o', 'jsonpath={.data.release}']);
      return r.out === 'skew';
    }, 60_000);
    t.pass('drift corrected offline');
    srv = await startServer(serverDir, port, fleetServerEnv(), '127.0.0.1', server.bin);
  });

  await t.test('status: after the reconnect, both sides agree', async (t) => {
    const s = await waitRoles(agent, agentDir, 'connected');
    t.equal(s.clusterId, clusterId);
    const b = await waitFor('agent status shows the bundle Ready', async () => {
      const st = await agentStatusOf(agent, agentDir);
      return st.bundles.find((x) => (x as { name: string; state: string }).name.includes('skew') && (x as { state: string }).state === 'Ready');
    }, 60_000);
    t.ok(b, 'the agent reports the bundle Ready');
    await readyAtServer('bundle skew Ready at the server after the reconnect');
    const listed = JSON.parse(await admin(['cluster', 'list', '--json'])) as { id: string; state: string }[];
    t.equal(listed.find((c) => c.id === clusterId)?.state, 'Connected');
  });
}
