// Bundle discovery: one bundle per fleet.yaml, or per given path without one; names and errors.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleName, discoverBundles, scanBundles } from './discovery.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-disc-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\n';

t.test('discovery: one bundle per directory with a fleet.yaml, named prefix-path', async (t) => {
  const dir = tree({
    'apps/web/fleet.yaml': 'defaultNamespace: web\n',
    'apps/web/cm.yaml': cm,
    'apps/db/fleet.yaml': '',
    'infra/cm.yaml': cm,
    '.git/fleet.yaml': 'ignored: true\n',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundles = await discoverBundles(dir, { prefix: 'demo' });
  t.same(bundles.map((b) => [b.name, b.path]), [
    ['demo-apps-db', 'apps/db'],
    ['demo-apps-web', 'apps/web'],
  ]);
  t.equal(bundles[1]?.fleetYaml.defaultNamespace, 'web');
});

t.test('discovery: a given path without any fleet.yaml is one bundle itself', async (t) => {
  const dir = tree({ 'infra/cm.yaml': cm, 'apps/web/fleet.yaml': '' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bundles = await discoverBundles(dir, { prefix: 'r', paths: ['infra', 'apps'] });
  t.same(bundles.map((b) => [b.name, b.path]), [
    ['r-apps-web', 'apps/web'],
    ['r-infra', 'infra'],
  ]);
  t.same(bundles[1]?.fleetYaml, {});
  const root = await discoverBundles(join(dir, 'infra'), { prefix: 'only' });
  t.same(root.map((b) => [b.name, b.path]), [['only', '.']]);
});

t.test('discovery: missing or escaping paths and a bad fleet.yaml fail with the path named', async (t) => {
  const dir = tree({ 'a/fleet.yaml': 'helm:\n  chrt: x\n', 'b/cm.yaml': cm });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(discoverBundles(dir, { paths: ['nope'] }), { code: 'BUNDLE_NOT_FOUND', message: /"nope"/ });
  await t.rejects(discoverBundles(dir, { paths: ['../'] }), { code: 'PATH_ESCAPES_BUNDLE' });
  await t.rejects(discoverBundles(dir, { paths: ['a'], strict: true }), { code: 'FLEET_YAML_UNKNOWN_KEY', message: /^a\/fleet\.yaml: unknown key "helm\.chrt" \(did you mean "chart"\?\)/ });
  const lenient = await discoverBundles(dir, { paths: ['a'] });
  t.match(lenient[0]?.warnings, [/a\/fleet\.yaml: unknown key "helm\.chrt" \(did you mean "chart"\?\) is ignored/], 'without --strict: a warning');
  t.same((await discoverBundles(dir, { paths: ['b'], prefix: 'x' })).map((b) => b.name), ['x-b']);
});

t.test('discovery: bundle names are lowercase DNS-like and bounded', async (t) => {
  t.equal(bundleName('Repo', 'Apps/Web_Server'), 'repo-apps-web-server');
  t.equal(bundleName('r', '.'), 'r');
  t.ok(bundleName('r', 'x'.repeat(100)).length <= 63);
});

t.test('discovery: scanBundles reports a bad fleet.yaml against its bundle and still returns the others', async (t) => {
  const dir = tree({ 'a/fleet.yaml': 'paused: maybe\n', 'b/fleet.yaml': '', 'b/cm.yaml': cm });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await scanBundles(dir, { prefix: 'r' });
  t.same(r.bundles.map((b) => b.name), ['r-b']);
  t.same(r.failed.map((f) => [f.name, f.path, f.error.code, f.error.context.bundle, f.error.context.file]), [['r-a', 'a', 'FLEET_YAML_SCHEMA', 'r-a', 'a/fleet.yaml']]);
});

t.test('discovery: a fleet.yaml symlinked out of its bundle is refused, not read', async (t) => {
  const outside = tree({ 'private.yaml': 'secretKeyName: 1\n' });
  const dir = tree({ 'b/cm.yaml': cm });
  symlinkSync(join(outside, 'private.yaml'), join(dir, 'b', 'fleet.yaml'));
  t.teardown(() => [dir, outside].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const r = await scanBundles(dir, { prefix: 'r' });
  t.same(r.failed.map((f) => f.error.code), ['PATH_ESCAPES_BUNDLE']);
  t.notMatch(r.failed[0]?.error.message ?? '', /secretKeyName/);
});
