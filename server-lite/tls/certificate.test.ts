// The DER/X.509 writer against Node's own X.509 parser and a real TLS handshake (no openssl binary).
import t from 'tap';
import fc from 'fast-check';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import tls from 'node:tls';
import { buildCertificate, derToPem } from './certificate.ts';
import { integer, oid, time } from './der.ts';

const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2060-01-01T00:00:00Z'); // past 2049: GeneralizedTime
const caDer = buildCertificate({
  subjectCommonName: 'test-ca', issuerCommonName: 'test-ca', serial: Buffer.from([0x01, 0x02]), notBefore, notAfter,
  publicKey: ca.publicKey, signingKey: ca.privateKey, issuerPublicKey: ca.publicKey, isCA: true,
});
const leafDer = buildCertificate({
  subjectCommonName: 'srv', issuerCommonName: 'test-ca', serial: Buffer.from([0xff, 0x01]), notBefore, notAfter,
  publicKey: leaf.publicKey, signingKey: ca.privateKey, issuerPublicKey: ca.publicKey, isCA: false,
  subjectAltNames: ['localhost', '127.0.0.1', '::1', 'drover.example.com'],
});

t.test('certificate: Node parses the CA and leaf, and the leaf verifies against the CA', async (t) => {
  const caCert = new X509Certificate(caDer);
  const leafCert = new X509Certificate(leafDer);
  t.ok(caCert.ca, 'CA flag');
  t.notOk(leafCert.ca);
  t.ok(caCert.verify(ca.publicKey), 'self-signed');
  t.ok(leafCert.checkIssued(caCert));
  t.ok(leafCert.verify(ca.publicKey));
  t.equal(leafCert.serialNumber.toUpperCase(), 'FF01');
  t.ok(leafDer.includes(Buffer.from([0x02, 0x03, 0x00, 0xff, 0x01])), 'a high first byte gets a zero pad so the serial stays positive');
  t.equal(new Date(leafCert.validTo).toISOString(), notAfter.toISOString());
  t.match(leafCert.subjectAltName, /DNS:localhost/);
  t.match(leafCert.subjectAltName, /IP Address:127\.0\.0\.1/);
  t.ok(leafCert.checkHost('drover.example.com'));
  t.ok(leafCert.checkIP('::1'));
});

t.test('certificate: a TLS client pinning the CA completes a handshake with the leaf', async (t) => {
  const server = tls.createServer({ key: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: derToPem(leafDer) }, (s) => s.end('hi'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const socket = tls.connect({ host: '127.0.0.1', port, ca: derToPem(caDer) });
  await once(socket, 'secureConnect');
  t.ok(socket.authorized);
  socket.destroy();
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherCa = buildCertificate({
    subjectCommonName: 'test-ca', issuerCommonName: 'test-ca', serial: Buffer.from([3]), notBefore, notAfter,
    publicKey: other.publicKey, signingKey: other.privateKey, issuerPublicKey: other.publicKey, isCA: true,
  });
  const bad = tls.connect({ host: '127.0.0.1', port, ca: derToPem(otherCa) });
  const [err] = (await once(bad, 'error')) as [NodeJS.ErrnoException];
  t.ok(err.code, `another CA is refused (${err.code})`);
});

t.test('der: integers encode minimally and positive', async (t) => {
  t.same([...integer(0)], [0x02, 0x01, 0x00]);
  t.same([...integer(127)], [0x02, 0x01, 0x7f]);
  t.same([...integer(128)], [0x02, 0x02, 0x00, 0x80]);
  t.same([...integer(256)], [0x02, 0x02, 0x01, 0x00]);
  t.same([...oid('1.2.840.10045.4.3.2')], [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
  t.equal(time(new Date('2049-12-31T23:59:59Z'))[0], 0x17, 'UTCTime through 2049');
  t.equal(time(new Date('2050-01-01T00:00:00Z'))[0], 0x18, 'GeneralizedTime from 2050');
});

t.test('der: any serial bytes make a certificate Node can parse', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), (serial) => {
      const der = buildCertificate({
        subjectCommonName: 'x', issuerCommonName: 'x', serial: Buffer.from(serial), notBefore, notAfter,
        publicKey: ca.publicKey, signingKey: ca.privateKey, issuerPublicKey: ca.publicKey, isCA: true,
      });
      return new X509Certificate(der).verify(ca.publicKey);
    }),
    { numRuns: 50 },
  );
});
