// Issue 6 acceptance: rollout with partitions and maxUnavailable over three clusters, one of them
// Offline. Three `drover agent run --roles fleet` (three registered clusters) share one harness
// cluster, each confined to its own namespace by a targetCustomization, so one control plane is
// enough. The Offline cluster is deferred: its partition is not failed and the others proceed; it
// gets the revision when it is back. Then the canary goes strictly first: a revision the canary
// cannot get Ready (a Deployment whose pods no node accepts) stays on the canary, and the next
// partition keeps the previous revision across several agent passes until the canary is Ready.
import t from 'tap';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';
import { fleetServerEnv, FLEET_AGENT_ENV, joinFleetAgent, type FleetAgent } from './fleet-helpers.ts';

interface Status {
  revision: string;
  clusters: { id: string; state: string; message: string; revision?: string; appliedRevision?: string }[];
}

/** Label on the harness node that the v3 Deployment's pods require (absent until the canary may pass). */
const GATE_LABEL = 'drover-test/canary-ok';

t.test('fleet rollout: partitions and maxUnavailable over three clusters, one Offline and deferred', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir, 0, fleetServerEnv());
  t.teardown(() => server.proc.stop());
  const kubectl = async (args: string[]) => {
    const r = await execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false, timeout: 60_000 });
    return { code: r.exitCode ?? -1, out: String(r.stdout) };
  };
  const env = { ...FLEET_AGENT_ENV };
  const sites: FleetAgent[] = [];
  for (const name of ['site-1', 'site-2', 'site-3']) {
    await kubectl(['create', 'namespace', name]);
    sites.push(await joinFleetAgent(server, { dir: path.join(dir, name), name, labels: `env=edge,site=${name}`, kubeconfig: cluster.kubeconfig }));
  }
  t.teardown(() => Promise.all(sites.map((s) => s.agent.stop())).then(() => undefined));

  const bundle = path.join(dir, 'bundle');
  mkdirSync(bundle, { recursive: true });
  const perSite = () => ['targetCustomizations:', ...sites.map((s) => `- {name: ${s.name}, clusterName: ${s.name}, namespace: ${s.name}}`)];
  const write = (v: string, globalMaxUnavailable: number | string = 1) => {
    writeFileSync(path.join(bundle, 'cm.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {version: "${v}"}\n`);
    writeFileSync(path.join(bundle, 'fleet.yaml'), [
      ...perSite(),
      'rolloutStrategy:',
      `  maxUnavailable: ${JSON.stringify(globalMaxUnavailable)}`,
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
  const v2 = await waitFor('all Ready at v2', async () => {
    const x = await status();
    return x.clusters.every((c) => c.state === 'Ready') ? x : undefined;
  }, 90_000);
  t.pass('the deferred cluster caught up');

  await t.test('the canary partition goes strictly first', async (t) => {
    const [canary, second, third] = sites as [typeof sites[0], typeof sites[0], typeof sites[0]];
    const v2rev = new Map(v2.clusters.map((c) => [c.id, c.revision]));
    const row = (x: Status, id: string) => x.clusters.find((c) => c.id === id);
    const brief = (x: Status, id: string) => {
      const c = row(x, id);
      return { state: c?.state, revision: c?.revision, applied: c?.appliedRevision };
    };

    // A second bundle whose drift we cause and undo: each round proves every agent ran passes and
    // reported them, and the server re-planned on those statuses (it plans when statuses arrive).
    // That counts reconcile/plan cycles without looking at a clock.
    const pulseDir = path.join(dir, 'pulse');
    mkdirSync(pulseDir, { recursive: true });
    writeFileSync(path.join(pulseDir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pulse}\ndata: {beat: "0"}\n');
    writeFileSync(path.join(pulseDir, 'fleet.yaml'), [...perSite(), ''].join('\n'));
    const pa = await drover(['bundle', 'apply', pulseDir, '--name', 'pulse', '--data-dir', serverDir]);
    t.equal(pa.exitCode, 0, `pulse bundle applied ${pa.stderr}`);
    const pulseStatus = async (): Promise<Status> => JSON.parse((await drover(['bundle', 'status', 'pulse', '--json', '--data-dir', serverDir])).stdout) as Status;
    const pulseAll = (state: string) => async () => {
      const x = await pulseStatus();
      if (x.clusters.length === 3 && x.clusters.every((c) => c.state === state)) return true;
      throw new Error(JSON.stringify(x.clusters.map((c) => c.state)));
    };
    await waitFor('pulse Ready on all three', pulseAll('Ready'), 90_000);
    const beat = async (value: string) => {
      for (const s of sites) {
        const r = await kubectl(['-n', s.name, 'patch', 'configmap', 'pulse', '--type=merge', '-p', JSON.stringify({ data: { beat: value } })]);
        if (r.code !== 0) throw new Error(`patch pulse in ${s.name}: ${r.out}`);
      }
    };
    const pulseRound = async (i: number) => {
      await beat(`drift-${i}`);
      await waitFor(`pulse round ${i}: drift reported by every agent`, pulseAll('Modified'), 60_000);
      await beat('0');
      await waitFor(`pulse round ${i}: drift gone, reported by every agent`, pulseAll('Ready'), 60_000);
    };

    // v3: the canary's Deployment cannot schedule (no node has GATE_LABEL), so it never becomes
    // Available. The strategy's own maxUnavailable is now 100%: only the partition gate can hold
    // site-2 and site-3 back, not the global budget.
    writeFileSync(path.join(bundle, 'web.yaml'), [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: web}',
      'spec:',
      '  replicas: 1',
      '  selector: {matchLabels: {app: web}}',
      '  template:',
      '    metadata: {labels: {app: web}}',
      '    spec:',
      `      nodeSelector: {${GATE_LABEL}: "yes"}`,
      '      containers: [{name: web, image: registry.invalid/web:3}]',
      '',
    ].join('\n'));
    write('3', '100%');
    await apply();
    const held = await waitFor('the canary reports NotReady at v3', async () => {
      const x = await status();
      const c = row(x, canary.id);
      if (c?.state === 'NotReady' && c.revision !== v2rev.get(canary.id) && c.appliedRevision === c.revision) return x;
      throw new Error(JSON.stringify(c));
    }, 90_000);
    const canaryV3 = row(held, canary.id)?.revision;
    t.match(row(held, canary.id)?.message, /not ready: .*web/, 'the canary says which object is not ready');
    t.equal(await live(canary.name), '3', 'the canary has v3 live');
    t.equal((await kubectl(['-n', canary.name, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.phase}'])).out, 'Pending', "the canary's pod cannot schedule");

    const holdsBack = async (when: string) => {
      const x = await status();
      t.same(brief(x, canary.id), { state: 'NotReady', revision: canaryV3, applied: canaryV3 }, `${when}: the canary is NotReady at v3`);
      for (const s of [second, third]) {
        // Still assigned v2 and at it: the planner has not even handed v3 over. Not Ready for this
        // bundle revision, though: OutOfSync, saying it waits for the canary.
        t.same(brief(x, s.id), { state: 'OutOfSync', revision: v2rev.get(s.id), applied: v2rev.get(s.id) }, `${when}: ${s.name} is still assigned and at v2`);
        t.match(row(x, s.id), { rollout: { reason: 'partition-gate', blockedBy: ['canary'] }, message: /rollout waits for partition "canary"/ }, `${when}: ${s.name} says what it waits for`);
        t.equal(await live(s.name), '2', `${when}: ${s.name} has v2 live`);
        t.not((await kubectl(['-n', s.name, 'get', 'deployment', 'web'])).code, 0, `${when}: ${s.name} has no v3 Deployment`);
      }
    };
    await holdsBack('right after the canary reported');
    for (let i = 1; i <= 3; i++) {
      await pulseRound(i);
      await holdsBack(`after pulse round ${i}`);
    }

    // What an operator sees while the rollout waits on the canary.
    const human = await drover(['bundle', 'status', 'app', '--data-dir', serverDir]);
    t.equal(human.exitCode, 0, `bundle status (human form) ${human.stderr}`);
    t.comment(human.stdout);
    const lines = human.stdout.split('\n');
    t.match(lines.find((l) => l.includes(canary.id)), /NotReady .*not ready: .*web/, 'the human form shows the canary NotReady and why');
    t.match(lines.find((l) => l.includes(second.id)), /site-2\s+OutOfSync\s+[0-9a-f]{12}\s+at revision .*rollout waits for partition "canary"/, 'the human form says the rollout waits on partition "canary"');

    // The canary may pass now: its pod schedules, the Deployment turns Available, and the rest follows.
    const label = await kubectl(['label', 'node', cluster.nodes[0] ?? 'kwok-node-0', `${GATE_LABEL}=yes`]);
    t.equal(label.code, 0, 'node labelled');
    await waitFor('v3 live on site-2 and site-3', async () => (await live(second.name)) === '3' && (await live(third.name)) === '3', 90_000);
    const done = await waitFor('all Ready at v3', async () => {
      const x = await status();
      if (x.clusters.length === 3 && x.clusters.every((c) => c.state === 'Ready' && c.revision !== v2rev.get(c.id) && c.appliedRevision === c.revision)) return x;
      throw new Error(JSON.stringify(x.clusters));
    }, 90_000);
    t.equal(row(done, canary.id)?.revision, canaryV3, 'the canary kept the v3 it had been held at');
    for (const s of sites) {
      t.equal((await kubectl(['-n', s.name, 'get', 'deployment', 'web', '-o', 'jsonpath={.status.availableReplicas}'])).out, '1', `${s.name}: the v3 Deployment is Available`);
    }
  });
});
