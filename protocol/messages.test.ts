// Control messages (SPEC.md §7): typed and schema-checked; unknown optional kinds ignored,
// unknown required kinds and invalid bodies refused with a structured `error` message.
import t from 'tap';
import { MESSAGE_KINDS, checkMessage, type ControlMessage } from './messages.ts';
import { TunnelError } from './errors.ts';
import { bothReady, sessionPair } from './session-pair.ts';
import type { Session } from './session.ts';

const facts = { hostname: 'edge-1', os: 'linux', arch: 'arm64', agentVersion: '0.1.0', kubernetesVersion: 'v1.34.1', nodeCount: 3 };

function nextMessage(s: Session): Promise<ControlMessage> {
  return new Promise((r) => s.once('message', r));
}

t.test('messages: facts from the agent arrive at the server validated and typed', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  const got = nextMessage(server);
  t.ok(client.sendMessage('facts', { ...facts, extras: { kernel: '6.1' } }));
  const m = await got;
  t.equal(m.kind, 'facts');
  if (m.kind === 'facts') t.equal(m.body.nodeCount, 3);
});

t.test('messages: fields unknown to this build are dropped, the message still delivered', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  const got = nextMessage(server);
  client.sendControl(MESSAGE_KINDS.heartbeat.wire, { seq: 1, addedInV1_5: 'x' });
  t.same((await got).body, { seq: 1 });
});

t.test('messages: an unknown optional kind is ignored and the session carries on', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  const seen: ControlMessage[] = [];
  server.on('message', (m) => seen.push(m));
  client.on('message', (m) => seen.push(m));
  client.sendControl(4242, { whatever: 1 }, false);
  const hb = nextMessage(server);
  client.sendMessage('heartbeat', { seq: 2 });
  t.equal((await hb).kind, 'heartbeat');
  t.same(seen.map((m) => m.kind), ['heartbeat'], 'no error reply, nothing delivered for 4242');
  t.equal(server.state, 'open');
});

t.test('messages: an unknown required kind is refused with an error message UNKNOWN_REQUIRED_MESSAGE', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  const reply = nextMessage(client);
  client.sendControl(4243, { must: 'understand' }, true);
  const m = await reply;
  t.equal(m.kind, 'error');
  if (m.kind === 'error') {
    t.equal(m.body.code, 'UNKNOWN_REQUIRED_MESSAGE');
    t.equal(m.body.ref?.kind, 4243);
    t.match(m.body.message, /required but unknown/);
  }
  t.equal(server.state, 'open', 'refusing a message does not end the session');
});

t.test('messages: a known kind failing its schema is refused with MESSAGE_INVALID, not delivered', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  let delivered = false;
  server.on('message', () => (delivered = true));
  const reply = nextMessage(client);
  client.sendControl(MESSAGE_KINDS.facts.wire, { hostname: 42 });
  const m = await reply;
  t.equal(m.kind, 'error');
  if (m.kind === 'error') t.equal(m.body.code, 'MESSAGE_INVALID');
  t.notOk(delivered);
});

t.test('messages: sending a body that fails the schema throws MESSAGE_INVALID locally', async (t) => {
  const { client, server } = sessionPair();
  await bothReady(client, server);
  let caught: unknown;
  try {
    client.sendMessage('facts', { hostname: 'h' } as never);
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof TunnelError && caught.code === 'MESSAGE_INVALID');
});

t.test('messages: sending before the session is open returns false', async (t) => {
  const { client } = sessionPair();
  t.equal(client.sendMessage('heartbeat', { seq: 0 }), false);
});

t.test('messages: registry wire numbers are unique and every kind has a verdict path', async (t) => {
  const wires = Object.values(MESSAGE_KINDS).map((k) => k.wire);
  t.equal(new Set(wires).size, wires.length);
  for (const [kind, info] of Object.entries(MESSAGE_KINDS)) {
    t.match(info.since, /^\d+\.\d+$/, `${kind} records its version`);
    const v = checkMessage(info.wire, info.required, {});
    t.ok(v.ok || v.reason === 'invalid', `${kind} is known to checkMessage`);
  }
});
