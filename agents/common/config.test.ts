import t from 'tap';
import { parseDuration, parseLabels, parseRegisterConfig, parseRoles, parseRunConfig, parseServerUrl, DEFAULT_DATA_DIR } from './config.ts';

const token = `D10${'a'.repeat(64)}::abcdef0123.${'s'.repeat(32)}`;

t.test('config: --server must be https://HOST[:PORT] and names the flag when wrong', async (t) => {
  t.equal(parseServerUrl('https://127.0.0.1:9443/'), 'https://127.0.0.1:9443');
  t.equal(parseServerUrl('https://drover.example.com'), 'https://drover.example.com');
  for (const bad of [undefined, '', 'http://x:1', 'ftp://x', 'not a url', 'https://u:p@x', 'https://x/path', 'https://x/?q=1']) {
    t.throws(() => parseServerUrl(bad), { code: 'INVALID_CONFIG', message: /--server/ }, String(bad));
  }
});

t.test('config: labels parse as k=v,k2=v2 with Kubernetes syntax', async (t) => {
  t.same(parseLabels(undefined), {});
  t.same(parseLabels('site=berlin,tier=edge'), { site: 'berlin', tier: 'edge' });
  t.same(parseLabels('example.com/zone=a, empty='), { 'example.com/zone': 'a', empty: '' });
  for (const bad of ['novalue', '=x', 'k=v w', 'k/=x', `k=${'x'.repeat(64)}`]) {
    t.throws(() => parseLabels(bad), { code: 'INVALID_CONFIG', message: /--labels/ }, bad);
  }
});

t.test('config: roles default to all three, reject unknown names, drop duplicates', async (t) => {
  t.same(parseRoles(undefined), ['cluster', 'node', 'fleet']);
  t.same(parseRoles('fleet, cluster,fleet'), ['fleet', 'cluster']);
  t.throws(() => parseRoles('cluster,server'), { code: 'INVALID_CONFIG', message: /--roles/ });
});

t.test('config: durations accept ms/s/m/h, a bare number is seconds', async (t) => {
  t.equal(parseDuration('250ms', '--x'), 250);
  t.equal(parseDuration('30', '--x'), 30_000);
  t.equal(parseDuration('5m', '--x'), 300_000);
  t.equal(parseDuration('1.5h', '--x'), 5_400_000);
  t.throws(() => parseDuration('0s', '--x'), { code: 'INVALID_CONFIG' });
  t.throws(() => parseDuration('soon', '--backoff-cap'), { message: /--backoff-cap/ });
});

t.test('config: register config is frozen, data dir defaults to /var/lib/drover/agent', async (t) => {
  const cfg = parseRegisterConfig({ server: 'https://s:1', token, labels: 'a=b', kubeconfig: 'kc' }, '1.2.3', '/work');
  t.equal(cfg.dataDir, DEFAULT_DATA_DIR);
  t.equal(cfg.kubeconfig, '/work/kc', 'relative kubeconfig resolved against the cwd');
  t.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.labels));
  t.throws(() => parseRegisterConfig({ server: 'https://s:1' }, '1'), { code: 'INVALID_CONFIG', message: /--token/ });
});

t.test('config: run config takes the backoff cap from --backoff-cap and keeps base <= cap', async (t) => {
  const cfg = parseRunConfig({ dataDir: 'd', roles: 'node', backoffCap: '200ms' }, '1', '/x');
  t.equal(cfg.dataDir, '/x/d');
  t.same(cfg.roles, ['node']);
  t.equal(cfg.backoff.capMs, 200);
  t.ok(cfg.backoff.baseMs <= cfg.backoff.capMs);
  t.ok(Object.isFrozen(cfg.backoff));
});
