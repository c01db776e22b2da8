// renderSource over plain-YAML bundles (no external tools): independent bundles, revisions, cycles.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { renderSource } from './render-source.ts';
import { toolsAt } from './tools.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-rs-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const cm = (n: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n} }\n`;
const clusters = [{ id: 'c1', name: 'one', labels: {} }];
const noTools = toolsAt({ helm: '/nonexistent/helm', kustomize: '/nonexistent/kustomize' });

t.test('render source: outcomes sorted by bundle; a bad fleet.yaml fails only its bundle', async (t) => {
  const dir = tree({ 'a/fleet.yaml': 'paused: maybe\n', 'b/fleet.yaml': '', 'b/cm.yaml': cm('b'), 'c/fleet.yaml': '', 'c/cm.yaml': cm('c') });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = await renderSource({ root: dir, prefix: 's', clusters, groups: [], tools: noTools });
  t.same(out.map((o) => (o.ok ? [o.result.name, 'ok'] : [o.name, o.error.code])), [['s-a', 'FLEET_YAML_SCHEMA'], ['s-b', 'ok'], ['s-c', 'ok']]);
});

t.test('render source: the bundle revision changes exactly when rendered content changes', async (t) => {
  const dir = tree({ 'b/fleet.yaml': '', 'b/cm.yaml': cm('b') });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rev = async () => {
    const [o] = await renderSource({ root: dir, prefix: 's', clusters, groups: [], tools: noTools });
    return o?.ok ? o.result.revision : 'failed';
  };
  const r1 = await rev();
  writeFileSync(join(dir, 'b/cm.yaml'), `# a comment only\n${cm('b')}`);
  t.equal(await rev(), r1, 'a comment is not content');
  writeFileSync(join(dir, 'b/cm.yaml'), cm('b2'));
  t.not(await rev(), r1);
});

t.test('render source: a dependsOn cycle fails the whole source with DEPENDENCY_CYCLE', async (t) => {
  const dir = tree({ 'a/fleet.yaml': 'dependsOn: [{ name: s-b }]\n', 'a/cm.yaml': cm('a'), 'b/fleet.yaml': 'dependsOn: [{ name: s-a }]\n', 'b/cm.yaml': cm('b') });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(renderSource({ root: dir, prefix: 's', clusters, groups: [], tools: noTools }), { code: 'DEPENDENCY_CYCLE', message: /s-a → s-b → s-a/ });
});

t.test('render source: --namespace is the default namespace only where fleet.yaml sets none', async (t) => {
  const dir = tree({ 'a/fleet.yaml': 'defaultNamespace: own\n', 'a/cm.yaml': cm('a'), 'b/fleet.yaml': '', 'b/cm.yaml': cm('b') });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = await renderSource({ root: dir, prefix: 's', clusters, groups: [], defaultNamespace: 'pushed', tools: noTools });
  t.same(out.map((o) => (o.ok ? o.result.targets[0]?.set.objects[0]?.id : o.error.code)), ['/ConfigMap/own/a', '/ConfigMap/pushed/b']);
});
