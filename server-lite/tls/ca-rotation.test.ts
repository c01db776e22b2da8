// CA rotation against real TLS handshakes: after the switch, a client that trusts only the old CA,
// one that trusts only the new CA, and one with the pushed bundle all verify the server (decision 0952).
import t from 'tap';
import { once } from 'node:events';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ensureTlsMaterial, type TlsMaterial } from './tls-material.ts';
import { completeRotation, knownCas, pathLenOf, readRotation, startRotation, trustBundle, hasRotated } from './ca-rotation.ts';

const T0 = Date.parse('2026-12-05T00:00:00Z');

async function handshake(m: TlsMaterial, ca: string): Promise<{ authorized: boolean; error: string | undefined }> {
  const server = tls.createServer({ key: m.keyPem, cert: m.certPem }, (s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const r = { authorized: socket.authorized, error: socket.authorizationError?.toString() };
    socket.destroy();
    return r;
  } finally {
    server.close();
  }
}

t.test('CA rotation: old-only, new-only and bundle clients all verify after the switch', async (t) => {
  const dir = t.testdir();
  const names = ['localhost', '127.0.0.1'];
  const before = ensureTlsMaterial(dir, names, new Date(T0));
  t.notOk(hasRotated(dir));
  t.equal(pathLenOf(before.caDer), 0, 'CAs made before issue 18 allow no intermediate');
  const state = startRotation(dir, T0, 60_000);
  t.equal(state.mode, 'keep-signer', 'so the first rotation keeps the old key signing leaves');
  t.same(readRotation(dir), state);
  t.throws(() => startRotation(dir, T0, 1), /already in progress/);
  const bundle = trustBundle(dir);
  t.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 2, 'during the overlap agents get [new, current]');
  const during = ensureTlsMaterial(dir, names, new Date(T0 + 1000));
  t.equal(during.caHash, before.caHash, 'the server still serves the old CA during the overlap');
  t.match(await handshake(during, bundle), { authorized: true }, 'bundle holders verify the old leaf');
  t.equal(knownCas(dir).get(state.nextCaHash) !== undefined, true);

  completeRotation(dir);
  t.equal(readRotation(dir), undefined);
  const after = ensureTlsMaterial(dir, names, new Date(T0 + 70_000));
  t.equal(after.caHash, state.nextCaHash, 'the new CA is current');
  t.equal(after.certPem.match(/BEGIN CERTIFICATE/g)?.length, 2, 'leaf + the new CA cross-signed by the old');
  t.ok(new X509Certificate(after.certPem).checkIssued(new X509Certificate(before.caPem)), 'keep-signer: the leaf still comes from the old key');
  t.equal(pathLenOf(after.caDer), null, 'the new CA allows intermediates');
  t.match(await handshake(after, before.caPem), { authorized: true, error: undefined }, 'a client trusting only the OLD CA verifies (offline agent)');
  t.match(await handshake(after, after.caPem), { authorized: true }, 'a client trusting only the NEW CA verifies');
  t.match(await handshake(after, bundle), { authorized: true }, 'bundle holders verify');
  t.equal(knownCas(dir).get(before.caHash), before.caPem, 'the old CA is still known, for join tokens made before');
  t.ok(hasRotated(dir));

  // A second rotation: clients of the first CA still verify through both cross-signatures.
  // A second rotation, from a CA without the limit: leaves from the new CA, cross-signed by the old.
  const second = startRotation(dir, T0 + 100_000, 0);
  t.equal(second.mode, 'successor');
  completeRotation(dir);
  const after2 = ensureTlsMaterial(dir, names, new Date(T0 + 100_001));
  t.equal(after2.caHash, second.nextCaHash);
  t.ok(new X509Certificate(after2.certPem).checkIssued(new X509Certificate(after2.caPem)), 'successor: the leaf comes from the new CA');
  t.match(await handshake(after2, after.caPem), { authorized: true, error: undefined }, 'a client trusting only the second CA (offline for this rotation)');
  t.match(await handshake(after2, after2.caPem), { authorized: true, error: undefined }, 'a client trusting only the third CA');
  // Documented limit (docs/access.md): an agent must connect once between two rotations.
  t.match(await handshake(after2, before.caPem), { authorized: false }, 'a client of the first CA, offline across two rotations, is not served');
});
