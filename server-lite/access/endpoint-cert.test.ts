import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { endpointNames, ensureEndpointTls, needsReissue } from './endpoint-cert.ts';

const DAY = 24 * 3600 * 1000;
const T0 = Date.parse('2026-12-05T00:00:00Z');

t.test('endpoint cert: issued for the listen address and FQDN by a CA of the cluster', async (t) => {
  const dir = t.testdir();
  const names = endpointNames('192.168.1.10', 'edge-1.example.com');
  t.same(names, ['localhost', '127.0.0.1', 'edge-1.example.com', '192.168.1.10']);
  t.same(endpointNames('0.0.0.0', null), ['localhost', '127.0.0.1'], 'a wildcard is no name');
  const a = ensureEndpointTls(dir, 'c1', names, T0);
  const cert = new X509Certificate(a.certPem);
  t.ok(cert.checkIssued(new X509Certificate(a.caPem)));
  t.ok(cert.checkHost('edge-1.example.com'));
  t.ok(cert.checkIP('192.168.1.10'));
  t.same(ensureEndpointTls(dir, 'c1', names, T0 + DAY), a, 'reused while valid and the names hold');
  const b = ensureEndpointTls(dir, 'c1', [...names, 'other.example.com'], T0 + DAY);
  t.not(b.certPem, a.certPem, 're-issued for a new name');
  t.equal(b.caPem, a.caPem, 'same CA: kubeconfigs stay valid');
  t.not(ensureEndpointTls(dir, 'c2', names, T0).caPem, a.caPem, 'each cluster its own CA');
});

t.test('endpoint cert: renewed automatically inside the renewal window', async (t) => {
  const dir = t.testdir();
  const a = ensureEndpointTls(dir, 'c1', ['localhost'], T0);
  const validTo = new Date(new X509Certificate(a.certPem).validTo).getTime();
  t.notOk(needsReissue(a.certPem, a.caPem, ['localhost'], validTo - 31 * DAY));
  t.ok(needsReissue(a.certPem, a.caPem, ['localhost'], validTo - 29 * DAY));
  const renewed = ensureEndpointTls(dir, 'c1', ['localhost'], validTo - 29 * DAY);
  t.ok(new Date(new X509Certificate(renewed.certPem).validTo).getTime() > validTo, 'a later expiry');
});
