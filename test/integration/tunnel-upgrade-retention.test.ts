// An idle tunnel must cost only what its session needs (issue 12): the upgrade request (its headers,
// raw header strings, parser state) is garbage once the WebSocket is accepted. A listener created
// inside the upgrade's scope kept it alive for the tunnel's whole life, about 2 KiB per idle tunnel.
// The tunnel endpoint runs on a plain HTTP server of the test's own so that the test can hold a
// WeakRef to the request; authentication, the store and the session are the real server's.
import t from 'tap';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTunnelEndpoint } from '../../server-lite/tunnel/connect.ts';
import { connectTunnel, createToken, registerAgent, removeDir, startTestServer } from './server-harness.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

t.test('the upgrade request is not retained by an accepted tunnel', async (t) => {
  const server = await startTestServer();
  t.teardown(async () => {
    await server.close();
    removeDir(server.dataDir);
  });
  const endpoint = createTunnelEndpoint(server.ctx);
  const refs: WeakRef<IncomingMessage>[] = [];
  const plain = http.createServer();
  plain.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    refs.push(new WeakRef(req));
    endpoint.onUpgrade(req, socket, head);
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => plain.close(() => r())));
  t.teardown(() => endpoint.drain(0));

  const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  const roles = ['cluster', 'node', 'fleet'];
  const tunnels = [];
  for (let i = 0; i < 3; i++) {
    const agent = await registerAgent(server, (await createToken(server)).secret);
    tunnels.push(...(await Promise.all(roles.map((role) => connectTunnel({ url, caPem: server.caPem }, agent.credential, role)))));
  }
  await Promise.all(tunnels.map((x) => x.ready));
  t.equal(refs.length, 9, 'nine upgrades went through this endpoint');
  // deref() keeps its target alive until the end of the current job: collect in jobs of their own.
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc();
  }
  await new Promise((r) => setTimeout(r, 20));
  const reachable = refs.filter((r) => r.deref() !== undefined).length;
  t.equal(reachable, 0, 'no upgrade request is reachable while its tunnel is up');
  t.ok(tunnels.every((x) => x.ws.readyState === x.ws.OPEN), 'the tunnels are still up');
  for (const x of tunnels) x.ws.close();
});
