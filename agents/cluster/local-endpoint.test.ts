// The local endpoint's listener lifecycle against real TLS clients: it listens where the synced set
// says, refuses unknown tokens with a Kubernetes Status (and audits them locally), swaps a renewed
// certificate in without dropping open connections, and stops when the endpoint is disabled.
// (Authenticated requests reaching a real kube-apiserver: test/e2e/local-endpoint.test.ts.)
import t from 'tap';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import https from 'node:https';
import Database from 'better-sqlite3';
import pino from 'pino';
import { X509Certificate } from 'node:crypto';
import { LocalEndpoint } from './local-endpoint.ts';
import { KubeUpstream } from './kube-upstream.ts';
import { openAccessStore } from './access-store.ts';
import type { AccessSet } from './access-set.ts';
import { ensureEndpointTls } from '../../server-lite/access/endpoint-cert.ts';

async function peerSerial(port: number, ca: string): Promise<{ serial: string; socket: tls.TLSSocket }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  await once(socket, 'secureConnect');
  return { serial: socket.getPeerCertificate().serialNumber, socket };
}

t.test('local endpoint: listens, refuses unknown tokens, swaps a renewed certificate, stops when disabled', async (t) => {
  const dir = t.testdir();
  const kubeconfig = join(dir, 'kubeconfig');
  // Never dialled here: only requests with a valid token go upstream.
  writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
    clusters: [{ name: 'x', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'x', user: { token: 'agent' } }], contexts: [{ name: 'x', context: { cluster: 'x', user: 'x' } }],
  }));
  const db = new Database(':memory:');
  const store = openAccessStore(db, () => new Date());
  const endpoint = new LocalEndpoint({ store, log: pino({ level: 'silent' }), now: () => Date.now(), kube: () => KubeUpstream.fromKubeconfig(kubeconfig) });
  t.teardown(() => endpoint.close());
  const now = Date.now();
  const tls1 = ensureEndpointTls(join(dir, 'access'), 'c1', ['localhost', '127.0.0.1'], now);
  const set = (certPem: string, keyPem: string): AccessSet => ({
    revision: certPem.slice(-40), endpoint: { listen: '127.0.0.1:0', fqdn: null, certPem, keyPem, caPem: tls1.caPem },
    users: [], tokens: [], droverGroups: [],
  });
  const st = await endpoint.apply(set(tls1.certPem, tls1.keyPem));
  t.equal(st.error, null);
  const port = Number(st.listening?.split(':')[1]);
  t.ok(port > 0, `listening on ${st.listening}`);

  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/api/v1/pods', ca: tls1.caPem, servername: 'localhost', headers: { authorization: 'Bearer t-zzzzzzzzzz.nope' } }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    }).on('error', reject);
  });
  t.equal(res.status, 401);
  t.match(JSON.parse(res.body), { kind: 'Status', reason: 'Unauthorized', error: { code: 'UNAUTHENTICATED' } }, 'a Kubernetes Status kubectl prints');
  t.match(store.audit.peek(10).map((r) => r.entry), [{ user: 'anonymous', verb: 'list', status: 401, path: 'local-endpoint:/api/v1/pods' }], 'audited locally');

  const before = await peerSerial(port, tls1.caPem);
  t.teardown(() => before.socket.destroy());
  // A re-issued certificate (renewal, or a new --fqdn) pushed with the next set; same address.
  // (When the server re-issues: server-lite/access/endpoint-cert.test.ts.)
  const tls2 = ensureEndpointTls(join(dir, 'access'), 'c1', ['localhost', '127.0.0.1', 'edge.drover.test'], now);
  t.ok(new X509Certificate(tls2.certPem).checkHost('edge.drover.test'));
  t.not(tls2.certPem, tls1.certPem);
  const st2 = await endpoint.apply({ ...set(tls2.certPem, tls2.keyPem), endpoint: { ...set(tls2.certPem, tls2.keyPem).endpoint!, listen: '127.0.0.1:0' } });
  t.equal(st2.listening, st.listening, 'same listener');
  const after = await peerSerial(port, tls1.caPem);
  after.socket.destroy();
  t.not(after.serial, before.serial, 'new handshakes get the renewed certificate');
  t.notOk(before.socket.destroyed, 'the connection made before stays open');

  await endpoint.apply({ ...set(tls2.certPem, tls2.keyPem), endpoint: null });
  t.equal(endpoint.status.listening, null);
  const refused = tls.connect({ host: '127.0.0.1', port });
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  t.equal(err.code, 'ECONNREFUSED', 'disabled: nothing listens');
});
