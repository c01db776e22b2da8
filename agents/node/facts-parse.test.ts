import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectKubernetes, parseMeminfo, parseMounts, parseOsRelease, parseUptime, quantiseUptime, versionIn } from './facts-parse.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'node-facts', name), 'utf8');

t.test('node facts: os-release gives id, name, version and the pretty name', async (t) => {
  t.same(parseOsRelease(fixture('os-release-debian')), { id: 'debian', name: 'Debian GNU/Linux', version: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
  const u = parseOsRelease(fixture('os-release-ubuntu'));
  t.same(u, { id: 'ubuntu', name: 'Ubuntu', version: '22.04', prettyName: 'Ubuntu 22.04.4 LTS' });
  t.same(parseOsRelease(''), { id: 'linux', name: 'Linux', version: '', prettyName: 'Linux' }, 'an empty file still gives an answer');
  t.equal(parseOsRelease('NAME="a \\"b\\""\nVERSION_ID=1').prettyName, 'a "b" 1', 'shell escapes inside double quotes are undone');
});

t.test('node facts: meminfo total and available, estimated on kernels without MemAvailable', async (t) => {
  t.same(parseMeminfo(fixture('meminfo')), { totalBytes: 3884132 * 1024, availableBytes: 2518880 * 1024 });
  t.same(parseMeminfo(fixture('meminfo-old-kernel')), { totalBytes: 1016040 * 1024, availableBytes: (515404 + 18220 + 166708) * 1024 });
  t.throws(() => parseMeminfo('garbage'), /MemTotal/);
});

t.test('node facts: uptime in whole seconds, quantised for reporting', async (t) => {
  t.equal(parseUptime(fixture('uptime')), 356921);
  t.throws(() => parseUptime('x y'));
  t.equal(quantiseUptime(59), 0);
  t.equal(quantiseUptime(125), 120);
  t.equal(quantiseUptime(356921), 356400);
});

t.test('node facts: mounts keep disks only, once per mount point, escapes undone', async (t) => {
  t.same(parseMounts(fixture('mounts')), [
    { device: '/dev/mmcblk0p2', mountPoint: '/', fsType: 'ext4' },
    { device: '/dev/mmcblk0p1', mountPoint: '/boot/firmware', fsType: 'vfat' },
    { device: '/dev/sda1', mountPoint: '/var/lib/rancher', fsType: 'ext4' },
    { device: '/dev/mapper/vg-data', mountPoint: '/srv/with space', fsType: 'xfs' },
  ]);
});

t.test('node facts: the Kubernetes distribution from the binaries that answered, most specific first', async (t) => {
  t.same(detectKubernetes({ k3s: fixture('k3s-version'), kubelet: fixture('kubelet-version') }), { distribution: 'k3s', version: 'v1.30.2+k3s1' });
  t.same(detectKubernetes({ rke2: fixture('rke2-version') }), { distribution: 'rke2', version: 'v1.29.6+rke2r1' });
  t.same(detectKubernetes({ kubeadm: fixture('kubeadm-version'), kubelet: fixture('kubelet-version') }), { distribution: 'kubeadm', version: 'v1.33.2' });
  t.same(detectKubernetes({ kubelet: fixture('kubelet-version') }), { distribution: 'kubelet', version: 'v1.34.4' });
  t.same(detectKubernetes({}), { distribution: 'none', version: '' }, 'no binary: none');
  t.same(detectKubernetes({ k3s: 'segmentation fault' }), { distribution: 'none', version: '' }, 'an answer without a version does not count');
  t.equal(versionIn('Kubernetes v1.35.0-alpha.1'), 'v1.35.0-alpha.1');
});
