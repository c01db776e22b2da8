// Session handshake and version negotiation (SPEC.md §5): HELLO both ways, capabilities
// intersected (and maskable), wrong versions refused with a clear code and the supported list.
import t from 'tap';
import { decodeFrame, encodeFrame } from './codec.ts';
import { CLOSE_CODES } from './errors.ts';
import type { Frame, Hello } from './frame.ts';
import type { ManualClock } from './manual-clock.ts';
import { bothReady, rawSession, sessionPair } from './session-pair.ts';
import { CURRENT_MINOR } from './versions.ts';

const hello = (over: Partial<Hello> = {}): Uint8Array => encodeFrame({
  type: 'HELLO',
  hello: { major: 1, minor: 0, streamWindow: 65536, maxDataPayload: 16384, maxStreams: 8, capabilities: [1, 2, 3], peer: { role: 'cluster', version: '9.9.9' }, ...over },
});

t.test('negotiation: both sides open and learn the peer info, minor and common capabilities', async (t) => {
  const { client, server } = sessionPair({ client: { peer: { role: 'cluster', version: '0.1.0', name: 'edge-1' }, minor: 0 } });
  await bothReady(client, server);
  t.equal(client.state, 'open');
  t.same(server.peerHello?.peer, { role: 'cluster', version: '0.1.0', name: 'edge-1' });
  t.equal(client.peerHello?.peer.role, 'server');
  t.ok(client.has('HTTP_STREAMS') && server.has('HTTP_STREAMS'));
});

t.test('negotiation: a capability masked on one side is used by neither (old-peer path)', async (t) => {
  const { client, server } = sessionPair({ server: { maskCapabilities: ['HTTP_STREAMS'] } });
  await bothReady(client, server);
  t.notOk(client.has('HTTP_STREAMS'), 'client sees the server lacks it');
  t.notOk(server.has('HTTP_STREAMS'), 'server does not use what it withheld');
  t.ok(client.has('TCP_STREAMS'));
});

t.test('negotiation: capabilities unknown to this build are accepted and ignored', async (t) => {
  const { client, server } = sessionPair({ client: { capabilities: [1, 2, 3, 700, 701] } });
  await bothReady(client, server);
  t.same(server.peerHello?.capabilities, [1, 2, 3, 700, 701]);
  t.ok(server.has('CONTROL_ERRORS'));
});

t.test('negotiation: a session on an unsupported subprotocol closes with 4000 listing supported versions', async (t) => {
  const { session, transport } = rawSession({ subprotocol: 'drover.v9' });
  const info = await new Promise<import('./session.ts').SessionCloseInfo>((r) => session.once('close', r));
  t.equal(info.code, 'UNSUPPORTED_VERSION');
  t.equal(info.closeCode, CLOSE_CODES.UNSUPPORTED_VERSION);
  t.equal(transport.closed?.code, 4000);
  t.match(transport.closed?.reason, /supported: drover\.v1/);
  t.ok(Buffer.byteLength(transport.closed?.reason ?? '') <= 123, 'reason fits a close frame');
});

t.test('negotiation: an empty subprotocol (server picked none) is refused the same way', async (t) => {
  const { session, transport } = rawSession({ subprotocol: '' });
  await new Promise((r) => session.once('close', r));
  t.equal(transport.closed?.code, 4000);
  t.match(transport.closed?.reason, /\(none offered\).*drover\.v1/);
});

t.test('negotiation: a HELLO naming another major than the subprotocol is refused', async (t) => {
  const { session, transport } = rawSession();
  session.handleFrame(hello({ major: 2 }));
  t.equal(session.state, 'closed');
  t.equal(session.closeInfo?.code, 'UNSUPPORTED_VERSION');
  t.equal(transport.closed?.code, 4000);
});

t.test('negotiation: the first frame must be HELLO; anything else fails the handshake', async (t) => {
  const { session, transport } = rawSession();
  session.handleFrame(encodeFrame({ type: 'PING', payload: Buffer.alloc(8) }));
  t.equal(session.closeInfo?.code, 'HANDSHAKE_FAILED');
  t.equal(transport.closed?.code, CLOSE_CODES.HANDSHAKE_FAILED);
  const goaway = decodeFrame(transport.sent.at(-1) as Uint8Array) as Extract<Frame, { type: 'GOAWAY' }>;
  t.equal(goaway.type, 'GOAWAY', 'the peer is told why before the close');
  t.equal(goaway.code, 6);
});

t.test('negotiation: no HELLO within the hello timeout closes the session (HANDSHAKE_FAILED)', async (t) => {
  const { session, transport, clock } = rawSession({ limits: { helloTimeoutMs: 500 } });
  (clock as ManualClock).advance(499);
  t.equal(session.state, 'handshake');
  (clock as ManualClock).advance(1);
  t.equal(session.closeInfo?.code, 'HANDSHAKE_FAILED');
  t.equal(transport.closed?.code, 4001);
});

t.test('negotiation: a second HELLO is a protocol error', async (t) => {
  const { session, transport } = rawSession();
  session.handleFrame(hello());
  t.equal(session.state, 'open');
  session.handleFrame(hello());
  t.equal(session.closeInfo?.code, 'PROTOCOL_ERROR');
  t.equal(transport.closed?.code, 1002);
});

t.test('negotiation: a HELLO with a window below 1024 bytes fails the handshake', async (t) => {
  const { session } = rawSession();
  session.handleFrame(hello({ streamWindow: 10 }));
  t.equal(session.closeInfo?.code, 'HANDSHAKE_FAILED');
});

t.test('negotiation: our HELLO is the first frame sent and carries our limits', async (t) => {
  const { transport } = rawSession({ limits: { streamWindow: 131072, maxDataPayload: 8192, maxStreams: 7 }, maskCapabilities: [2] });
  const f = decodeFrame(transport.sent[0] as Uint8Array);
  t.equal(f.type, 'HELLO');
  if (f.type === 'HELLO') {
    t.same({ ...f.hello, peer: undefined }, { major: 1, minor: CURRENT_MINOR, streamWindow: 131072, maxDataPayload: 8192, maxStreams: 7, capabilities: [1, 3, 4, 5], peer: undefined });
  }
});

t.test('negotiation: limits outside the wire bounds are refused at construction', async (t) => {
  t.throws(() => rawSession({ limits: { maxDataPayload: 1 << 20 } }), RangeError);
  t.throws(() => rawSession({ limits: { streamWindow: 10 } }), RangeError);
});
