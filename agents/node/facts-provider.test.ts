import t, { type Test } from 'tap';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { NODE_FACT_KEYS, nodeFactsProvider, quantiseFree } from './facts-provider.ts';

const FIX = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'node-facts');

function tree(t: Test): { root: string; bin: string } {
  const root = mkdtempSync(join(tmpdir(), 'drover-node-facts-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'proc', 'self'), { recursive: true });
  copyFileSync(join(FIX, 'os-release-ubuntu'), join(root, 'etc', 'os-release'));
  copyFileSync(join(FIX, 'meminfo'), join(root, 'proc', 'meminfo'));
  copyFileSync(join(FIX, 'uptime'), join(root, 'proc', 'uptime'));
  // The mount points must exist for statfs: the real root filesystem stands in for them.
  writeFileSync(join(root, 'proc', 'self', 'mounts'), '/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n');
  const bin = join(root, 'bin');
  mkdirSync(bin);
  return { root, bin };
}

t.test('node facts provider: OS, memory, disks, uptime and k3s from the machine it reads', async (t) => {
  const { root, bin } = tree(t);
  // k3s cannot be installed here (its binaries come from GitHub): a script answering `--version`
  // exactly as k3s does stands in for it; the parser is checked against k3s's real output.
  writeFileSync(join(bin, 'k3s'), `#!/bin/sh\n[ "$1" = --version ] && cat '${join(FIX, 'k3s-version')}'\n`);
  chmodSync(join(bin, 'k3s'), 0o755);
  const facts = await nodeFactsProvider({ logger: pino({ level: 'silent' }), identity: { kubeconfig: '/etc/drover/kubeconfig' } }, { sources: { root, path: bin } })();
  const x = facts.extras ?? {};
  t.equal(x[NODE_FACT_KEYS.kubeApiFallback], 'available', 'registered with a kubeconfig: can serve the fallback path');
  const K = NODE_FACT_KEYS;
  t.equal(x[K.os], 'Ubuntu 22.04.4 LTS');
  t.equal(x[K.osId], 'ubuntu');
  t.equal(x[K.memoryBytes], String(3884132 * 1024));
  t.equal(x[K.memoryAvailableBytes], String(quantiseFree(2518880 * 1024, 3884132 * 1024)));
  t.equal(x[K.uptimeSeconds], '356400');
  t.equal(x[K.kubernetesDistribution], 'k3s');
  t.equal(x[K.kubernetesVersion], 'v1.30.2+k3s1');
  t.match(x[K.arch], /^(amd64|arm64)$/);
  t.ok(Number(x[K.cpus]) >= 1);
  const disks = JSON.parse(x[K.disks] ?? '[]') as { mount: string; sizeBytes: number; freeBytes: number }[];
  t.equal(disks.length, 1, 'proc is not a disk');
  t.equal(disks[0]?.mount, '/');
  t.ok((disks[0]?.sizeBytes ?? 0) > 0 && (disks[0]?.freeBytes ?? -1) >= 0, 'size and free from statfs');
  t.ok(Buffer.byteLength(JSON.stringify(facts)) < 4096, 'well inside the facts bound');
});

t.test('node facts provider: no Kubernetes binary reports distribution none', async (t) => {
  const { root, bin } = tree(t);
  // PATH holds only the empty bin dir; the usual directories are searched too, and this machine has
  // none of k3s, rke2, kubeadm or kubelet installed there.
  const facts = await nodeFactsProvider({ logger: pino({ level: 'silent' }) }, { sources: { root, path: bin }, kubeconfigs: [join(root, 'etc', 'rancher', 'k3s', 'k3s.yaml')] })();
  t.equal(facts.extras?.[NODE_FACT_KEYS.kubernetesDistribution], 'none');
  t.equal(facts.extras?.[NODE_FACT_KEYS.kubeApiFallback], 'none', 'no kubeconfig registered or installed by a distribution');
  mkdirSync(join(root, 'etc', 'rancher', 'k3s'), { recursive: true });
  writeFileSync(join(root, 'etc', 'rancher', 'k3s', 'k3s.yaml'), 'apiVersion: v1\n');
  const withK3s = await nodeFactsProvider({ logger: pino({ level: 'silent' }) }, { sources: { root, path: bin }, kubeconfigs: [join(root, 'etc', 'rancher', 'k3s', 'k3s.yaml')] })();
  t.equal(withK3s.extras?.[NODE_FACT_KEYS.kubeApiFallback], 'available', "k3s's admin kubeconfig found");
  t.equal(facts.extras?.[NODE_FACT_KEYS.kubernetesVersion], '');
});

t.test('node facts provider: free values move in 1 % steps, so facts are not re-sent for noise', async (t) => {
  const total = 100 * 1024 * 1024 * 1024;
  t.equal(quantiseFree(total / 2 + 12345, total), quantiseFree(total / 2 + 54321, total));
  t.not(quantiseFree(total / 2, total), quantiseFree(total / 2 + total / 50, total));
});

t.test('node facts provider: node.controlPlane from the processes under /proc (kube-apiserver, k3s/rke2 server)', async (t) => {
  const { root, bin } = tree(t);
  const proc = (pid: number, comm: string, argv: string[]): void => {
    mkdirSync(join(root, 'proc', String(pid)));
    writeFileSync(join(root, 'proc', String(pid), 'comm'), `${comm}\n`);
    writeFileSync(join(root, 'proc', String(pid), 'cmdline'), `${argv.join('\0')}\0`);
  };
  const read = async () => (await nodeFactsProvider({ logger: pino({ level: 'silent' }) }, { sources: { root, path: bin } })()).extras?.[NODE_FACT_KEYS.controlPlane];
  proc(10, 'kubelet', ['/usr/local/bin/kubelet', '--config=/var/lib/kubelet/config.yaml']);
  proc(11, 'k3s-agent', ['/usr/local/bin/k3s agent']);
  t.equal(await read(), 'false', 'a kubelet and a k3s agent: a worker');
  proc(12, 'kube-apiserver', ['/usr/local/bin/kube-apiserver', '--secure-port=6443']);
  t.equal(await read(), 'true', 'a kube-apiserver runs here');
});

t.test('isControlPlaneProcess: the shapes the distributions give their server processes', async (t) => {
  const { isControlPlaneProcess } = await import('./facts-parse.ts');
  t.ok(isControlPlaneProcess('kube-apiserver', ['kube-apiserver', '--v=0']));
  t.ok(isControlPlaneProcess('sh', ['/opt/k8s/bin/kube-apiserver']), 'started through a wrapper that exec-ed it');
  t.ok(isControlPlaneProcess('k3s-server', ['/usr/local/bin/k3s server']));
  t.ok(isControlPlaneProcess('k3s', ['/usr/local/bin/k3s server --cluster-init']), "k3s's one-string argv");
  t.ok(isControlPlaneProcess('rke2', ['/usr/local/bin/rke2', 'server']));
  t.notOk(isControlPlaneProcess('k3s-agent', ['/usr/local/bin/k3s agent']));
  t.notOk(isControlPlaneProcess('kubelet', ['/usr/bin/kubelet']));
  t.notOk(isControlPlaneProcess('grep', ['grep', 'kube-apiserver']), 'a command that only mentions it');
});
