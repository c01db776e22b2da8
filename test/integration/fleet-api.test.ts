// The fleet HTTP API against a real in-process server (HTTPS on 127.0.0.1:0, SQLite in a temp dir):
// the contract paths `/v1/bundles`, `/v1/gitrepos`, `/v1/clustergroups` (ARCHITECTURE.md §4) next to
// `/v1/fleet/…`, bundle events and their refusals, and not-found codes for each resource. No agent
// connects here; delivery and events with content are covered by test/e2e/fleet-wire.test.ts.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packSource } from '../../server-lite/fleet/source-archive.ts';
import { api, createToken, errorCode, eventually, registerAgent, removeDir, startTestServer, tempDir } from './server-harness.ts';

t.test('fleet API: contract paths, events, not-found codes, admin only', async (t) => {
  const server = await startTestServer();
  const src = tempDir('drover-fleet-api-src-');
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
    removeDir(src);
  });
  const bearer = server.adminToken;
  const token = await createToken(server, { labels: { env: 'edge' } });
  const reg = await registerAgent(server, token.secret, { name: 'edge-1', labels: { env: 'edge' } });

  mkdirSync(join(src, 'web'), { recursive: true });
  writeFileSync(join(src, 'web', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: "1"}\n');
  const push = await api(server, 'POST', '/v1/fleet/bundles?name=web&target=env%3Dedge', { bearer, raw: await packSource(join(src, 'web')), contentType: 'application/gzip' });
  t.equal(push.status, 200, push.text);

  const fleetList = await api(server, 'GET', '/v1/fleet/bundles', { bearer });
  const list = await api(server, 'GET', '/v1/bundles', { bearer });
  t.equal(list.status, 200);
  t.ok(Array.isArray(list.json), '/v1/bundles is an array, like /v1/clusters');
  t.same(list.json, (fleetList.json as { bundles: unknown[] }).bundles, 'the same bundles under both prefixes');
  t.match(list.json, [{ name: 'web', clusters: 1 }]);
  t.match((await api(server, 'GET', '/v1/bundles/web', { bearer })).json, { name: 'web', clusters: [{ id: reg.clusterId }] });

  // Per cluster: its bundles as `bundle status` shows them (Offline: no fleet agent is connected).
  t.match((await api(server, 'GET', '/v1/fleet/clusters', { bearer })).json, { clusters: [{ id: reg.clusterId, state: 'Offline', bundles: 1, ready: 0 }] });
  t.match((await api(server, 'GET', '/v1/fleet/clusters/edge-1', { bearer })).json, { id: reg.clusterId, state: 'Offline', summary: { offline: 1 }, bundles: [{ name: 'web', state: 'Offline' }] });
  t.equal(errorCode(await api(server, 'GET', '/v1/fleet/clusters/nowhere', { bearer })), 'CLUSTER_NOT_FOUND');

  const events = await api(server, 'GET', '/v1/bundles/web/events', { bearer });
  t.same(events.json, { events: [] }, 'nothing reported yet');
  t.equal((await api(server, 'GET', `/v1/fleet/bundles/web/events?cluster=edge-1&limit=5`, { bearer })).status, 200, 'a cluster by name');
  const noCluster = await api(server, 'GET', '/v1/fleet/bundles/web/events?cluster=nowhere', { bearer });
  t.equal(noCluster.status, 404);
  t.equal(errorCode(noCluster), 'CLUSTER_NOT_FOUND');
  const badLimit = await api(server, 'GET', '/v1/fleet/bundles/web/events?limit=lots', { bearer });
  t.equal(badLimit.status, 400);
  t.match(badLimit.json, { error: { code: 'INVALID_REQUEST', message: /limit/ } });
  t.equal(errorCode(await api(server, 'GET', '/v1/fleet/bundles/nope/events', { bearer })), 'BUNDLE_NOT_FOUND');

  t.equal((await api(server, 'POST', '/v1/clustergroups', { bearer, body: { name: 'edge', selector: 'env=edge' } })).status, 201);
  t.match((await api(server, 'GET', '/v1/clustergroups', { bearer })).json, [{ name: 'edge' }]);
  t.equal(errorCode(await api(server, 'DELETE', '/v1/clustergroups/nope', { bearer })), 'CLUSTERGROUP_NOT_FOUND');
  t.equal((await api(server, 'DELETE', '/v1/fleet/clustergroups/edge', { bearer })).status, 204);

  t.equal((await api(server, 'POST', '/v1/gitrepos', { bearer, body: { name: 'apps', repo: `file://${join(src, 'no-such-repo')}`, pollIntervalSeconds: 3600 } })).status, 201);
  t.match((await api(server, 'GET', '/v1/gitrepos', { bearer })).json, [{ name: 'apps', pollIntervalSeconds: 3600, bundles: [] }]);
  t.match((await api(server, 'GET', '/v1/fleet/gitrepos', { bearer })).json, { gitrepos: [{ name: 'apps' }] });
  const noRepo = await api(server, 'DELETE', '/v1/gitrepos/nope', { bearer });
  t.equal(noRepo.status, 404);
  t.equal(errorCode(noRepo), 'GITREPO_NOT_FOUND');
  t.equal((await api(server, 'DELETE', '/v1/gitrepos/apps', { bearer })).status, 204);

  for (const path of ['/v1/bundles', '/v1/bundles/web', '/v1/bundles/web/events', '/v1/gitrepos', '/v1/clustergroups', '/v1/fleet/clusters', '/v1/fleet/clusters/edge-1']) {
    t.equal((await api(server, 'GET', path)).status, 401, `${path} needs the admin token`);
  }
  t.equal((await api(server, 'DELETE', '/v1/bundles/web', { bearer })).status, 204, 'DELETE at the contract path');
  t.equal(errorCode(await api(server, 'GET', '/v1/bundles/web', { bearer })), 'BUNDLE_NOT_FOUND');
});

t.test('fleet retargeting: a group created later and a cluster registered later get the pushed bundles, without a new push', async (t) => {
  const server = await startTestServer();
  const src = tempDir('drover-fleet-retarget-src-');
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
    removeDir(src);
  });
  const bearer = server.adminToken;
  const join1 = await createToken(server, { labels: { env: 'edge' } });
  const first = await registerAgent(server, join1.secret, { name: 'edge-1', labels: { env: 'edge' } });
  mkdirSync(join(src, 'web'), { recursive: true });
  writeFileSync(join(src, 'web', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n');
  const archive = await packSource(join(src, 'web'));

  const early = await api(server, 'POST', '/v1/fleet/bundles?name=later&target=group%3Dlater', { bearer, raw: archive, contentType: 'application/gzip' });
  t.equal(early.status, 422, 'the group does not exist yet');
  t.match(early.json, { bundles: [{ name: 'later', ok: false, error: { code: 'TARGET_NO_MATCH' } }] });
  t.equal((await api(server, 'POST', '/v1/fleet/bundles?name=web&target=env%3Dedge', { bearer, raw: archive, contentType: 'application/gzip' })).status, 200);

  t.equal((await api(server, 'POST', '/v1/clustergroups', { bearer, body: { name: 'later', selector: 'env=edge' } })).status, 201);
  await eventually(async () => {
    const s = (await api(server, 'GET', '/v1/bundles/later', { bearer })).json as { error?: unknown; clusters: { id: string }[] };
    return s.error === undefined && s.clusters.length === 1 && s.clusters[0]?.id === first.clusterId;
  }, 'the bundle waiting for the group is rendered once the group exists', 1200);
  t.pass('group created later: bundle targeted, error cleared');

  const join2 = await createToken(server, { labels: { env: 'edge' } });
  const second = await registerAgent(server, join2.secret, { name: 'edge-2', labels: { env: 'edge' } });
  await eventually(async () => {
    const ids = ((await api(server, 'GET', '/v1/bundles/web', { bearer })).json as { clusters: { id: string }[] }).clusters.map((c) => c.id);
    return ids.includes(second.clusterId) && ids.includes(first.clusterId);
  }, 'a cluster registered after the push gets the bundle', 1200);
  t.pass('cluster registered later: targeted');

  t.equal((await api(server, 'PATCH', `/v1/clusters/${second.clusterId}`, { bearer, body: { labels: { env: 'core' } } })).status, 200);
  await eventually(async () => {
    const ids = ((await api(server, 'GET', '/v1/bundles/web', { bearer })).json as { clusters: { id: string }[] }).clusters.map((c) => c.id);
    return !ids.includes(second.clusterId);
  }, 'a cluster relabelled out of the selector is no longer targeted', 1200);
  t.pass('relabelled: untargeted');
  t.equal((await api(server, 'DELETE', '/v1/bundles/later', { bearer })).status, 204);
  t.equal((await api(server, 'DELETE', '/v1/clustergroups/later', { bearer })).status, 204);
  await new Promise((r) => setTimeout(r, 2500)); // one retarget cycle: a deleted bundle must not come back
  t.equal(errorCode(await api(server, 'GET', '/v1/bundles/later', { bearer })), 'BUNDLE_NOT_FOUND', 'a deleted pushed bundle is not rendered again');
});

t.test('gitrepo targets (Fleet\'s GitRepo targets): its bundles go only to matching clusters; a bad selector is refused up front', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const server = await startTestServer();
  const repo = tempDir('drover-fleet-gitrepo-targets-');
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
    removeDir(repo);
  });
  const bearer = server.adminToken;
  const edge = await registerAgent(server, (await createToken(server, { labels: { env: 'edge' } })).secret, { name: 'edge-1', labels: { env: 'edge' } });
  await registerAgent(server, (await createToken(server, { labels: { env: 'core' } })).secret, { name: 'core-1', labels: { env: 'core' } });
  mkdirSync(join(repo, 'app'), { recursive: true });
  writeFileSync(join(repo, 'app', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n');
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'one');

  const bad = await api(server, 'POST', '/v1/gitrepos', { bearer, body: { name: 'bad', repo: `file://${repo}`, targets: ['env in (edge'] } });
  t.equal(bad.status, 400);
  t.equal(errorCode(bad), 'SELECTOR_INVALID');
  t.same((await api(server, 'GET', '/v1/gitrepos', { bearer })).json, [], 'nothing stored');

  t.equal((await api(server, 'POST', '/v1/gitrepos', { bearer, body: { name: 'src', repo: `file://${repo}`, paths: ['app'], pollIntervalSeconds: 3600, targets: ['env=edge'] } })).status, 201);
  await eventually(async () => {
    const r = await api(server, 'GET', '/v1/bundles/src-app', { bearer });
    return r.status === 200 && (r.json as { clusters: unknown[] }).clusters.length > 0;
  }, 'the gitrepo bundle is rendered', 1200);
  t.same(((await api(server, 'GET', '/v1/bundles/src-app', { bearer })).json as { clusters: { id: string }[] }).clusters.map((c) => c.id), [edge.clusterId], 'only the env=edge cluster');
  t.match((await api(server, 'GET', '/v1/gitrepos', { bearer })).json, [{ name: 'src', targets: ['env=edge'] }]);
});
