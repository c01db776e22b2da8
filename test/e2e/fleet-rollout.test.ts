// Issue 6 acceptance: rollout with partitions and maxUnavailable over three clusters, one of them
// Offline. Three `drover agent run --roles fleet` (three registered clusters) share one harness
// cluster, each confined to its own namespace by a targetCustomization, so one control plane is
// enough. The Offline cluster is deferred: its partition is not failed and the others proceed; it
// gets the revision when it is back.
import t from 'tap';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { agentStatus, createToken, drover, startAgent, startServer, waitFor, type Proc } from './agent-helpers.ts';

interface Status {
  revision: string;
  clusters: { id: string; state: string; message: string; revision?: string }[];
}

t.test('fleet rollout: partitions and maxUnavailable over three clusters, one Offline and deferred', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = t.testdir();
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, { DROVER_HELM: tools.helm(), DROVER_KUSTOMIZE: tools.kustomize(), DROVER_LOG_LEVEL: 'info' });
  t.teardown(() => server.proc.stop());
  const kubectl = async (args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false, timeout: 60_000 });
    return { code: r.exitCode ?? -1, out: String(r.stdout) };
  };
  const env = { DROVER_FLEET_INTERVAL_MS: '1000', DROVER_LOG_LEVEL: 'info' };
  const sites: { name: string; id: string; dir: string; agent: Proc }[] = [];
  for (const name of ['site-1', 'site-2', 'site-3']) {
    await kubectl(['create', 'namespace', name]);
    const agentDir = path.join(dir, name);
    const token = await createToken(serverDir, ['--labels', 'env=edge']);
    const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', name, '--labels', `env=edge,site=${name}`, '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
    if (reg.exitCode !== 0) throw new Error(reg.stderr);
    const agent = startAgent(agentDir, ['--roles', 'fleet'], env);
    const st = await waitFor(`${name} connected`, async () => {
      const s = await agentStatus(agentDir);
      return s.roles.find((r) => r.name === 'fleet')?.state === 'connected' ? s : undefined;
    });
    sites.push({ name, id: st.clusterId, dir: agentDir, agent });
  }
  t.teardown(() => Promise.all(sites.map((s) => s.agent.stop())).then(() => undefined));

  const bundle = path.join(dir, 'bundle');
  mkdirSync(bundle, { recursive: true });
  const write = (v: string) => {
    writeFileSync(path.join(bundle, 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {version: "${v}"}\n`);
    writeFileSync(path.join(bundle, 'fleet.yaml'), [
      'targetCustomizations:',
      ...sites.map((s) => `- {name: ${s.name}, clusterName: ${s.name}, namespace: ${s.name}}`),
      'rolloutStrategy:',
      '  maxUnavailable: 1',
      '  partitions:',
      '  - {name: canary, clusterName: site-1}',
      '  - {name: rest, clusterSelector: {matchLabels: {env: edge}}, maxUnavailable: 1}',
      '',
    ].join('\n'));
  };
  const apply = async () => {
    const r = await drover(['bundle', 'apply', bundle, '--name', 'app', '--data-dir', serverDir]);
    if (r.exitCode !== 0) throw new Error(r.stderr);
  };
  const status = async (): Promise<Status> => JSON.parse((await drover(['bundle', 'status', 'app', '--json', '--data-dir', serverDir])).stdout) as Status;
  const live = async (ns: string) => (await kubectl(['-n', ns, 'get', 'configmap', 'app', '-o', 'jsonpath={.data.version}'])).out;

  write('1');
  await apply();
  await waitFor('v1 Ready on all three', async () => {
    const s = await status();
    if (s.clusters.length === 3 && s.clusters.every((c) => c.state === 'Ready')) return true;
    throw new Error(JSON.stringify(s.clusters));
  }, 90_000);
  t.same(await Promise.all(sites.map((s) => live(s.name))), ['1', '1', '1'], 'v1 live everywhere');

  const offline = sites[2]!;
  await offline.agent.stop();
  await waitFor('site-3 Offline', async () => (await status()).clusters.find((c) => c.id === offline.id)?.state === 'Offline');

  write('2');
  await apply();
  await waitFor('v2 live on site-1 and site-2', async () => (await live('site-1')) === '2' && (await live('site-2')) === '2', 90_000);
  const s = await waitFor('site-1 and site-2 Ready at v2', async () => {
    const x = await status();
    const online = x.clusters.filter((c) => c.id !== offline.id);
    return online.every((c) => c.state === 'Ready') ? x : undefined;
  }, 90_000);
  t.equal(s.clusters.find((c) => c.id === offline.id)?.state, 'Offline', 'the Offline cluster is reported Offline, not Ready or failed');
  t.equal(await live('site-3'), '1', 'the Offline cluster keeps v1 meanwhile');

  offline.agent = startAgent(offline.dir, ['--roles', 'fleet'], env);
  await waitFor('site-3 gets v2 when back', async () => (await live('site-3')) === '2', 90_000);
  await waitFor('all Ready at v2', async () => (await status()).clusters.every((c) => c.state === 'Ready'), 90_000);
  t.pass('the deferred cluster caught up');
});
