// gitrepo CLI helpers: poll intervals, and the bundle errors `gitrepo list` joins onto each gitrepo.
import t from 'tap';
import { errorColumn, parseInterval, withBundleErrors } from './gitrepo.ts';

t.test('parseInterval: s, m, h or plain seconds within 1s..24h; anything else is a usage error', async (t) => {
  t.same(['30s', '5m', '1h', '90'].map(parseInterval), [30, 300, 3600, 90]);
  for (const bad of ['soon', '1d', '-5s', '0s', '25h', '']) t.throws(() => parseInterval(bad), { name: 'CliError', exitCode: 2 }, bad);
});

t.test('withBundleErrors: only this gitrepo\'s failing bundles, in its bundle order', async (t) => {
  const rows = withBundleErrors(
    [
      { name: 'src', repo: 'file:///r', commit: 'abc', error: null, bundles: ['src-a', 'src-b'] },
      { name: 'other', repo: 'file:///o', commit: null, error: 'GIT_FAILED: gitrepo other: fatal: not found\nmore', bundles: [] },
    ],
    [
      { name: 'src-b', error: { code: 'HELM_RENDER_FAILED', message: 'chart needs x' } },
      { name: 'src-a' },
      { name: 'pushed', error: { code: 'MANIFEST_INVALID', message: 'not mine' } },
    ],
  );
  t.same(rows.map((r) => r.bundleErrors), [[{ bundle: 'src-b', code: 'HELM_RENDER_FAILED', message: 'chart needs x' }], []]);
  t.equal(errorColumn(rows[0]!), 'src-b: HELM_RENDER_FAILED');
  t.equal(errorColumn(rows[1]!), 'GIT_FAILED: gitrepo other: fatal: not found', 'the git error wins, first line only');
  t.equal(errorColumn({ ...rows[0]!, bundleErrors: [] }), '-');
});
