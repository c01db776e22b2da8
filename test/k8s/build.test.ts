// The harness build cache: a component is rebuilt exactly when its pinned module or stamp changes.
import t from 'tap';
import { COMPONENTS, ALL_BINARIES } from './components.ts';
import { componentKey } from './build.ts';

t.test('k8s build: every binary the contract names is built', async (t) => {
  for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok', 'helm', 'kustomize']) {
    t.ok(ALL_BINARIES.includes(b), b);
  }
});

t.test('k8s build: cache key depends on the Go version, the stamp and the module files', async (t) => {
  const k8s = COMPONENTS.find((c) => c.module === 'kubernetes');
  if (!k8s) throw new Error('kubernetes component missing');
  const a = componentKey(k8s, 'go1.26.8');
  t.equal(componentKey(k8s, 'go1.26.8'), a, 'stable');
  t.not(componentKey(k8s, 'go1.27.0'), a, 'new Go rebuilds');
  t.not(componentKey({ ...k8s, ldflags: [...k8s.ldflags, 'x=y'] }, 'go1.26.8'), a, 'new stamp rebuilds');
  const keys = new Set(COMPONENTS.map((c) => componentKey(c, 'go1.26.8')));
  t.equal(keys.size, COMPONENTS.length, 'each module has its own key');
});

t.test('k8s build: the upgrade test\'s older kube-apiserver pins the version it is stamped with, in its own module', async (t) => {
  const { UPGRADE_FROM_COMPONENT, UPGRADE_FROM_VERSION } = await import('./components.ts');
  const { readFileSync } = await import('node:fs');
  const { MODULES_DIR } = await import('./paths.ts');
  const gomod = readFileSync(`${MODULES_DIR}/${UPGRADE_FROM_COMPONENT.module}/go.mod`, 'utf8');
  t.match(gomod, new RegExp(`k8s\\.io/kubernetes ${UPGRADE_FROM_VERSION.replace(/\./g, '\\.')}\\b`));
  t.match(gomod, new RegExp(`k8s\\.io/api => k8s\\.io/api ${UPGRADE_FROM_VERSION.replace(/^v1/, 'v0').replace(/\./g, '\\.')}\\b`), 'staging modules at the matching v0 tag');
  t.ok(UPGRADE_FROM_COMPONENT.ldflags.includes(`k8s.io/component-base/version.gitVersion=${UPGRADE_FROM_VERSION}`));
  t.ok(!COMPONENTS.some((c) => c.module === UPGRADE_FROM_COMPONENT.module), 'not built by build.ts for every k8s test');
});
