// Issue 18: the server renews its serving certificate before it expires, by itself, while running:
// a short-lived certificate (two hours, renewed in its last hour) and a controllable clock (the
// wall clock the server reads and a ManualClock for its timers). The new certificate is served to
// new handshakes without a restart; a tunnel's TLS connection made before stays up.
import t from 'tap';
import tls from 'node:tls';
import { ManualClock } from '../../protocol/index.ts';
import { RENEWAL_CHECK_MS } from '../../server-lite/tls/tls-service.ts';
import { serverForTest } from './server-harness.ts';

const HOUR = 3600_000;

/** The certificates are dated on the test's clock, not the real one, so OpenSSL's own date check
 *  is not applied (it would make the test depend on the time of day it runs): the chain to the
 *  server CA is checked, and any verification error other than a date is a failure. */
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

async function peer(port: number, ca: string): Promise<{ serial: string; validTo: number; socket: tls.TLSSocket; chainOk: boolean }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', () => resolve()).once('error', reject));
  const c = socket.getPeerCertificate();
  const err: unknown = socket.authorizationError;
  const code = err === null || err === undefined ? null : String((err as { code?: unknown }).code ?? err);
  return { serial: c.serialNumber, validTo: Date.parse(c.valid_to), socket, chainOk: code === null || DATE_ERRORS.has(code) };
}

t.test('serving certificate: renewed automatically inside its renewal window', async (t) => {
  let wall = Date.parse('2026-12-05T12:00:00Z');
  const timers = new ManualClock();
  const server = await serverForTest(t, {
    clock: { now: () => wall },
    timers,
    servingCertPolicy: { lifetimeMs: 2 * HOUR, renewBeforeMs: HOUR },
  });
  const first = await peer(server.port, server.caPem);
  t.teardown(() => first.socket.destroy());
  t.equal(first.validTo, Math.floor((wall + 2 * HOUR) / 1000) * 1000, 'the short-lived certificate is served');

  // Not yet in the window: a check changes nothing.
  wall += 30 * 60_000;
  timers.advance(30 * 60_000);
  const early = await peer(server.port, server.caPem);
  early.socket.destroy();
  t.equal(early.serial, first.serial, 'not renewed before the window');
  t.equal(server.ctx.serverTls?.swaps, 0);

  // Into the window (the renewal timer is due one hour after start at the latest).
  wall += 31 * 60_000;
  timers.advance(Math.min(RENEWAL_CHECK_MS, HOUR));
  const renewed = await peer(server.port, server.caPem);
  renewed.socket.destroy();
  t.not(renewed.serial, first.serial, 'a new certificate is served');
  t.ok(renewed.validTo > first.validTo, 'with a later expiry');
  t.equal(server.ctx.serverTls?.swaps, 1, 'swapped in once, without a restart');
  t.ok(first.chainOk && renewed.chainOk, 'both from the same CA');
  t.notOk(first.socket.destroyed, 'the connection made before is still open');

  // And again before the renewed one expires.
  wall = renewed.validTo - 30 * 60_000;
  timers.advance(HOUR);
  const again = await peer(server.port, server.caPem);
  again.socket.destroy();
  t.not(again.serial, renewed.serial, 'renewed again in the next window');
});
