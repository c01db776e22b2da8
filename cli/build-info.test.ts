import t from 'tap';
import { archName, buildInfo } from './build-info.ts';
import { SUPPORTED_MAJORS } from '../protocol/versions.ts';

t.test('version: Node architectures map to artifact names', async (t) => {
  t.equal(archName('x64'), 'amd64');
  t.equal(archName('arm64'), 'arm64');
});

t.test('version: build info lists every supported protocol major, newest first', async (t) => {
  const info = buildInfo({ arch: 'arm64', version: 'v24.21.0', platform: 'linux' });
  t.equal(info.arch, 'arm64');
  t.equal(info.runtime, 'node v24.21.0');
  t.equal(info.protocols.length, SUPPORTED_MAJORS.length);
  t.match(info.protocols[0], new RegExp(`^${SUPPORTED_MAJORS[0]}\\.\\d+$`));
  t.match(info.version, /^\d+\.\d+\.\d+/);
});

t.test('version: one place — package.json — and a semantic version (decision 1010)', async (t) => {
  const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
  t.equal(buildInfo().version, pkg.version, 'drover version reports package.json');
  t.match(pkg.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
});
