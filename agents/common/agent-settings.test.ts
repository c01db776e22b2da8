import t from 'tap';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { AgentStore } from './store.ts';
import { sampleIdentity } from './test-fixtures.ts';
import { applySettings, checkSettings } from './agent-settings.ts';
import { serverCandidates } from './server-targets.ts';
import { buildCertificate, derToPem } from '../../server-lite/tls/certificate.ts';

function caPem(name: string): string {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const d = new Date('2026-01-01T00:00:00Z');
  return derToPem(buildCertificate({ subjectCommonName: name, issuerCommonName: name, serial: Buffer.from([1]), notBefore: d, notAfter: new Date('2036-01-01T00:00:00Z'), publicKey: k.publicKey, signingKey: k.privateKey, issuerPublicKey: k.publicKey, isCA: true }));
}

t.test('server targets: the new URL first, the previous one only until the overlap ends', async (t) => {
  const id = { serverUrl: 'https://new:9443', fallbackUrl: 'https://old:9443', fallbackUntil: '2026-12-05T12:00:00.000Z' };
  t.same(serverCandidates(id, Date.parse('2026-12-05T11:00:00Z')), ['https://new:9443', 'https://old:9443']);
  t.same(serverCandidates(id, Date.parse('2026-12-05T12:00:00Z')), ['https://new:9443'], 'overlap over');
  t.same(serverCandidates({ serverUrl: 'https://a', fallbackUrl: null, fallbackUntil: null }, 0), ['https://a']);
  t.same(serverCandidates({ serverUrl: 'https://a', fallbackUrl: 'https://a', fallbackUntil: '2999-01-01T00:00:00Z' }, 0), ['https://a'], 'no duplicate');
});

t.test('agent settings: checked at the boundary', async (t) => {
  t.throws(() => checkSettings(null));
  t.throws(() => checkSettings({ revision: 'r', trust: { caPem: 'nope' } }), /PEM/);
  t.throws(() => checkSettings({ revision: 'r', serverUrl: { url: 'http://x', keepOldUntil: null } }), /https/);
  t.throws(() => checkSettings({ revision: 'r', serverUrl: { url: 'https://x/path', keepOldUntil: null } }), /https/);
  t.throws(() => checkSettings({ revision: 'r', serverUrl: { url: 'https://x', keepOldUntil: 'soon' } }), /time/);
  t.same(checkSettings({ revision: 'r', serverUrl: { url: 'https://x:1/', keepOldUntil: null } }), { revision: 'r', serverUrl: { url: 'https://x:1', keepOldUntil: null } });
});

t.test('agent settings: a trust bundle and a URL change are stored; the old URL becomes the fallback', async (t) => {
  const store = AgentStore.open(path.join(t.testdir(), 'a'), { create: true });
  t.teardown(() => store.close());
  store.saveIdentity(sampleIdentity({ serverUrl: 'https://old:9443' }));
  const bundle = caPem('new') + caPem('old');
  const until = '2026-12-06T00:00:00.000Z';
  t.same(applySettings(store, checkSettings({ revision: 'r1', trust: { caPem: bundle }, serverUrl: { url: 'https://new:9443', keepOldUntil: until } })), ['trust', 'serverUrl']);
  const id = store.getIdentity();
  t.equal(id?.caPem, bundle);
  t.match(id?.caSha256, /^[0-9a-f]{64}$/);
  t.equal(id?.serverUrl, 'https://new:9443');
  t.equal(id?.fallbackUrl, 'https://old:9443');
  t.equal(id?.fallbackUntil, until);
  t.same(applySettings(store, checkSettings({ revision: 'r1', trust: { caPem: bundle }, serverUrl: { url: 'https://new:9443', keepOldUntil: until } })), [], 'idempotent');
  t.throws(() => checkSettings({ revision: 'r', trust: { caPem: derToPemLeaf() } }), /not a CA/);
});

function derToPemLeaf(): string {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const d = new Date('2026-01-01T00:00:00Z');
  return derToPem(buildCertificate({ subjectCommonName: 'leaf', issuerCommonName: 'leaf', serial: Buffer.from([2]), notBefore: d, notAfter: new Date('2036-01-01T00:00:00Z'), publicKey: k.publicKey, signingKey: k.privateKey, issuerPublicKey: k.publicKey, isCA: false }));
}
