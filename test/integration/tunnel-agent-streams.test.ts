// SPEC.md §6.1: the server announces maxStreams 1024 but serves no agent-opened target in v1. An
// agent that opens a stream anyway gets RESET STREAM_REFUSED (not retryable), and its session
// stays up. Against a real server over a real WebSocket.
import t from 'tap';
import { TunnelError } from '../../protocol/index.ts';
import { connectTunnel, createToken, registerAgent, serverForTest } from './server-harness.ts';

t.test('an agent-opened stream is refused with STREAM_REFUSED although maxStreams is announced', async (t) => {
  const server = await serverForTest(t);
  const agent = await registerAgent(server, (await createToken(server)).secret);
  const tunnel = await connectTunnel(server, agent.credential, 'cluster');
  t.teardown(() => tunnel.ws.terminate());
  await tunnel.ready;
  t.equal(tunnel.session.peerHello?.maxStreams, 1024, 'the server announces the default maxStreams');
  const stream = tunnel.session.openStream('http:drover-anything');
  const err = await new Promise<unknown>((resolve) => {
    stream.on('error', resolve);
    stream.resume();
  });
  t.ok(err instanceof TunnelError, 'the stream fails with a structured error');
  t.equal((err as TunnelError).code, 'STREAM_REFUSED');
  t.equal((err as TunnelError).retryable, false, 'not retryable');
  t.equal((err as TunnelError).remote, true, 'sent by the server');
  t.equal(tunnel.session.state, 'open', 'the session stays up');
});
