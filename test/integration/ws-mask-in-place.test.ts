// The agent's (WebSocket client's) DATA frames are masked in place by `ws` (decision 1201): real
// `ws` sockets on 127.0.0.1, a 24 MiB transfer agent→server, the bytes checked by hash, and the
// client's frames seen going out through `ws`'s Sender with a random mask, not through `ws.send`'s
// masked copy.
import t from 'tap';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { attachWebSocket, openTunnel, MAX_WS_MESSAGE, offeredSubprotocols, selectSubprotocol, type Session, type TunnelStream } from '../../protocol/index.ts';

t.test('ws: client DATA frames are masked in place, with a random mask, and arrive intact', async (t) => {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false, handleProtocols: (p) => selectSubprotocol(p) ?? false });
  const server = http.createServer();
  const received = new Promise<{ hash: string; bytes: number }>((resolve) => {
    server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        const s: Session = attachWebSocket(ws, { side: 'server', peer: { role: 'server', version: '0.1.0' } });
        s.on('stream', (st: TunnelStream) => {
          st.on('error', () => {});
          const h = createHash('sha256');
          let bytes = 0;
          st.on('data', (c: Buffer) => {
            h.update(c);
            bytes += c.length;
          });
          st.on('end', () => resolve({ hash: h.digest('hex'), bytes }));
        });
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const c of wss.clients) c.terminate();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/connect`, offeredSubprotocols(), { maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false });
  const session = await openTunnel(ws, { side: 'client', peer: { role: 'cluster', version: '0.1.0' } });
  t.teardown(() => session.close('NORMAL', 'done'));

  // Watch both ways out of the client: ws.send (copying mask) and the Sender's frames.
  const sender = (ws as unknown as { _sender: { sendFrame: (list: Buffer[], cb?: () => void) => void } })._sender;
  const original = sender.sendFrame.bind(sender);
  const masks: string[] = [];
  let bigInPlace = 0;
  sender.sendFrame = (list, cb) => {
    const head = list[0] as Buffer;
    const payload = list.length === 2 ? (list[1] as Buffer).length : head.length;
    if ((head[1] ?? 0) & 0x80 && list.length === 2 && payload >= 16 * 1024) {
      bigInPlace++;
      const len7 = (head[1] ?? 0) & 0x7f;
      const at = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      masks.push(head.subarray(at, at + 4).toString('hex'));
    }
    original(list, cb);
  };
  let bigCopied = 0;
  const send = ws.send.bind(ws);
  (ws as unknown as { send: (d: Uint8Array, cb?: () => void) => void }).send = (d, cb) => {
    if (d.length >= 16 * 1024) bigCopied++;
    send(d, cb);
  };

  const data = randomBytes(24 * 1024 * 1024);
  const st = session.openStream('sink');
  st.on('error', () => {});
  for (let off = 0; off < data.length; off += 64 * 1024) {
    if (!st.write(data.subarray(off, off + 64 * 1024))) await new Promise((r) => st.once('drain', r));
  }
  st.end();
  const got = await received;
  t.equal(got.bytes, data.length, 'every byte');
  t.equal(got.hash, createHash('sha256').update(data).digest('hex'), 'the same bytes');
  t.ok(bigInPlace > 100, `${bigInPlace} large frames masked in place`);
  t.equal(bigCopied, 0, 'none went through ws.send');
  t.ok(new Set(masks).size > bigInPlace / 2 && !masks.includes('00000000'), 'a random mask per frame');
});
