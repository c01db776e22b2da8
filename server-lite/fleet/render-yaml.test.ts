// Plain-YAML bundles: which files count, overlays that replace and merge-patch, escapes refused.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mergePatch, renderPlainYaml } from './render-yaml.ts';
import { assertNoEscapingLinks, insideBundle } from './bundle-files.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-yaml-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const deploy = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, labels: { a: "1" } }\nspec: { replicas: 3 }\n';
const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\ndata: { color: blue }\n';

t.test('plain yaml: all manifests except fleet.yaml, overlays/, hidden files and nested bundles, in path order', async (t) => {
  const dir = tree({
    'fleet.yaml': 'defaultNamespace: x\n',
    'b/deploy.yaml': deploy,
    'a.yml': cm,
    'overlays/edge/extra.yaml': cm.replace('cfg', 'extra'),
    '.hidden/x.yaml': cm.replace('cfg', 'hidden'),
    'nested/fleet.yaml': '',
    'nested/n.yaml': cm.replace('cfg', 'nested'),
    'README.md': '# not yaml',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const objs = await renderPlainYaml(dir, [], 'web');
  t.same(objs.map((o) => (o.metadata as { name: string }).name), ['cfg', 'web']);
});

t.test('plain yaml: overlays apply in order; X_patch.yaml merge-patches X.yaml, other files add or replace', async (t) => {
  const dir = tree({
    'deploy.yaml': deploy,
    'cm.yaml': cm,
    'overlays/edge/deploy_patch.yaml': 'kind: Deployment\nmetadata: { name: web, labels: { a: null, b: "2" } }\nspec: { replicas: 1 }\n',
    'overlays/edge/extra.yaml': cm.replace('cfg', 'extra'),
    'overlays/small/cm.yaml': cm.replace('blue', 'green'),
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const objs = await renderPlainYaml(dir, ['edge', 'small'], 'web');
  const byName = Object.fromEntries(objs.map((o) => [(o.metadata as { name: string }).name, o]));
  t.same(byName.web?.spec, { replicas: 1 });
  t.same((byName.web?.metadata as { labels: unknown }).labels, { b: '2' }, 'null deletes a key');
  t.same(byName.cfg?.data, { color: 'green' });
  t.ok(byName.extra);
  await t.rejects(renderPlainYaml(dir, ['missing'], 'web'), { code: 'BUNDLE_NOT_FOUND', message: /overlay "missing"/ });
});

t.test('plain yaml: a patch for a file the bundle lacks is MANIFEST_INVALID; invalid YAML names the file', async (t) => {
  const dir = tree({ 'deploy.yaml': deploy, 'overlays/o/nothere_patch.yaml': 'kind: X\n' });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(renderPlainYaml(dir, ['o'], 'web'), { code: 'MANIFEST_INVALID', message: /nothere/ });
  const bad = tree({ 'broken.yaml': 'kind: [\n' });
  t.teardown(() => rmSync(bad, { recursive: true, force: true }));
  await t.rejects(renderPlainYaml(bad, [], 'web'), { code: 'MANIFEST_INVALID', message: /web\/broken\.yaml/ });
});

t.test('bundle files: paths that leave the bundle, directly or by symlink, are PATH_ESCAPES_BUNDLE', async (t) => {
  const outside = tree({ 'secret.yaml': cm });
  const dir = tree({ 'a.yaml': cm });
  symlinkSync(outside, join(dir, 'link'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  await t.rejects(insideBundle(dir, '../x', 'web'), { code: 'PATH_ESCAPES_BUNDLE' });
  await t.rejects(insideBundle(dir, 'link/secret.yaml', 'web'), { code: 'PATH_ESCAPES_BUNDLE' });
  await t.rejects(insideBundle(dir, 'nope', 'web'), { code: 'BUNDLE_NOT_FOUND' });
  t.ok(await insideBundle(dir, 'a.yaml', 'web'));
});

t.test('merge patch: RFC 7386 examples', async (t) => {
  t.same(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
  t.same(mergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
  t.same(mergePatch({ a: 'b' }, { a: null }), {});
  t.same(mergePatch({ a: ['b'] }, { a: 'c' }), { a: 'c' });
  t.same(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } });
  t.same(mergePatch(['a'], { a: 'b' }), { a: 'b' });
});

t.test('bundle files: a symlinked manifest inside the bundle counts; a link out of the bundle fails the whole bundle', async (t) => {
  const outside = tree({ 'secret.yaml': cm.replace('cfg', 'secret') });
  const dir = tree({ 'real/cm.yaml': cm, 'sub/x.txt': 'not yaml' });
  symlinkSync(join(dir, 'real', 'cm.yaml'), join(dir, 'alias.yaml'));
  t.teardown(() => [dir, outside].forEach((d) => rmSync(d, { recursive: true, force: true })));
  await assertNoEscapingLinks(dir, 'web');
  const objs = await renderPlainYaml(dir, [], 'web');
  t.equal(objs.length, 2, 'alias.yaml and real/cm.yaml');
  symlinkSync(join(outside, 'secret.yaml'), join(dir, 'sub', 'leak.yaml'));
  await t.rejects(assertNoEscapingLinks(dir, 'web'), { code: 'PATH_ESCAPES_BUNDLE', message: /symlink "sub\/leak\.yaml" points outside/ });
  symlinkSync('/nonexistent/target', join(outside, 'dangling'));
  await t.rejects(assertNoEscapingLinks(outside, 'o'), { code: 'PATH_ESCAPES_BUNDLE' }, 'a dangling link is refused too');
});
