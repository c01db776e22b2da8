// Compatibility (issue 3, "Compatibility"): a v1 peer with extra optional messages and
// capabilities interoperates with a plain v1 peer, both ways round; capabilities masked to run the
// old-peer paths; a peer offering only an unsupported major is refused with a clear close code and
// a message that lists the supported versions.
import t, { type Test } from 'tap';
import { defaultCapabilities } from './capabilities.ts';
import { MESSAGE_KINDS, type ControlMessage } from './messages.ts';
import { bothReady, rawSession, sessionPair } from './session-pair.ts';
import type { Session } from './session.ts';
import type { TunnelStream } from './tunnel-stream.ts';
import { selectSubprotocol, versionRefusal } from './versions.ts';

/** What a later 1.x build looks like to a 1.0 build: a higher minor, extra capabilities, extra
 *  optional message kinds and extra fields in known messages. */
const NEWER = { minor: 7, capabilities: [...defaultCapabilities(), 40, 41] };

async function exchange(t: Test, newer: Session, plain: Session): Promise<void> {
  const echo = (st: TunnelStream) => st.pipe(st);
  newer.on('stream', echo);
  plain.on('stream', echo);
  await bothReady(newer, plain);
  t.equal(plain.peerHello?.minor, 7, 'the plain peer sees the newer minor');
  t.notOk([...(plain as unknown as { common: Set<number> }).common].includes(40), 'unknown capabilities are not in common');
  t.ok(newer.has('HTTP_STREAMS') && plain.has('HTTP_STREAMS'), 'shared capabilities are');

  const received: ControlMessage[] = [];
  const errors: ControlMessage[] = [];
  plain.on('message', (m) => received.push(m));
  newer.on('message', (m) => (m.kind === 'error' ? errors.push(m) : undefined));
  newer.sendControl(700, { newFeature: { x: 1 } }, false); // a kind from the future, optional
  newer.sendControl(MESSAGE_KINDS.facts.wire, { hostname: 'h', os: 'linux', arch: 'amd64', agentVersion: '1.7.0', gpuCount: 2 });
  newer.sendMessage('heartbeat', { seq: 1 });

  for (const [from, to] of [[newer, plain], [plain, newer]] as const) {
    const s = from.openStream('echo');
    s.end('ping across versions');
    let got = '';
    for await (const c of s) got += String(c);
    t.equal(got, 'ping across versions');
    void to;
  }
  t.same(received.map((m) => m.kind), ['facts', 'heartbeat'], 'future optional kind ignored, known kinds delivered');
  t.notOk('gpuCount' in (received[0]?.body ?? {}), 'unknown fields dropped');
  t.same(errors, [], 'nothing was refused');
  t.equal(newer.state, 'open');
  t.equal(plain.state, 'open');
}

t.test('interop: a newer v1 agent with extra capabilities and messages works with a plain v1 server', async (t) => {
  const { client, server } = sessionPair({ client: NEWER });
  await exchange(t, client, server);
});

t.test('interop: a newer v1 server with extra capabilities and messages works with a plain v1 agent', async (t) => {
  const { client, server } = sessionPair({ server: NEWER });
  await exchange(t, server, client);
});

t.test('interop: new agent and old server (capability masked): the feature is off on both sides', async (t) => {
  const { client, server } = sessionPair({ server: { maskCapabilities: ['HTTP_STREAMS', 'CONTROL_ERRORS'] } });
  await bothReady(client, server);
  t.notOk(client.has('HTTP_STREAMS'));
  t.notOk(client.has('CONTROL_ERRORS'));
  t.ok(client.has('TCP_STREAMS'));
});

t.test('interop: old agent and new server (capability masked on the agent)', async (t) => {
  const { client, server } = sessionPair({ client: { maskCapabilities: ['TCP_STREAMS'] } });
  await bothReady(client, server);
  t.notOk(server.has('TCP_STREAMS'));
  t.ok(server.has('HTTP_STREAMS'));
});

t.test('interop: a client offering only an unsupported major is refused before the upgrade with 400 and the supported list', async (t) => {
  t.equal(selectSubprotocol(['drover.v9']), undefined);
  const r = versionRefusal(['drover.v9']);
  t.equal(r.status, 400);
  t.equal(r.closeCode, 4000);
  t.match(r.message, /drover\.v9.*supported: drover\.v1/);
  t.match(r.httpResponse, /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.same(JSON.parse(r.body).error.supported, ['drover.v1']);
});

t.test('interop: a session that ends up on an unsupported major closes with 4000 listing supported versions', async (t) => {
  const { session, transport } = rawSession({ side: 'client', subprotocol: 'drover.v9' });
  await new Promise((r) => session.once('close', r));
  t.equal(transport.closed?.code, 4000);
  t.match(transport.closed?.reason, /supported: drover\.v1/);
});
