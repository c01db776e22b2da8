// Frames and CPU per GiB of one tunnel stream over a real loopback WebSocket, both ends in this
// one process: `node bench/stream-frames.ts [--mib N] [--direction up|down]`. `up` is agent →
// server (the client masks), `down` server → agent. Prints the frames each session sent per GiB
// (the receiver's are WINDOW frames) and the process CPU per GiB: counts that do not move with
// background load, unlike wall-clock throughput on a shared machine (issue 3, decision 0150).
// `--chunk BYTES` (DROVER_BENCH_CHUNK) sets the write size. Honours DROVER_BENCH_STREAM_WINDOW
// like the main benchmark. Not a test: it only reports.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { attachWebSocket, MAX_WS_MESSAGE, offeredSubprotocols, selectSubprotocol, whenReady } from '../protocol/index.ts';
import type { Session, TunnelStream } from '../protocol/index.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: process.env.DROVER_BENCH_MIB ?? '512' },
    direction: { type: 'string', default: process.env.DROVER_BENCH_DIRECTION ?? 'up' },
    /** Write size; not 64 KiB means frames smaller than the maximum, as a relay's socket reads. */
    chunk: { type: 'string', default: process.env.DROVER_BENCH_CHUNK ?? '65536' },
  },
});
const total = Number(values.mib) * 1024 * 1024;
const win = process.env.DROVER_BENCH_STREAM_WINDOW;
const limits = win === undefined || win === '' ? {} : { streamWindow: Number(win) };
const peer = { role: 'bench', version: '0.0.0-bench' };

const server = http.createServer();
const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false, handleProtocols: (o) => selectSubprotocol(o) ?? false });
const serverSession = new Promise<Session>((resolve) => {
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => resolve(attachWebSocket(ws, { side: 'server', peer, limits }))));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, offeredSubprotocols(), { maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false });
const clientSession = await new Promise<Session>((resolve) => ws.once('open', () => resolve(attachWebSocket(ws, { side: 'client', peer, limits }))));
const srv = await serverSession;
await Promise.all([whenReady(srv), whenReady(clientSession)]);

const [sender, receiver] = values.direction === 'down' ? [srv, clientSession] : [clientSession, srv];
const incoming = new Promise<TunnelStream>((r) => receiver.once('stream', r));
const out = sender.openStream('sink');
const inStream = await (async () => {
  out.write(Buffer.alloc(1));
  return incoming;
})();
const chunk = Buffer.alloc(Number(values.chunk), 1);
const f0 = { s: sender.stats().framesOut, r: receiver.stats().framesOut };
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let got = -1;
const done = new Promise<void>((r) => inStream.on('data', (c: Buffer) => { got += c.length; if (got >= total) r(); }));
for (let sent = 0; sent < total; sent += chunk.length) {
  if (!out.write(chunk)) await once(out, 'drain');
}
await done;
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const gib = total / 2 ** 30;
const s = sender.stats().framesOut - f0.s;
const r = receiver.stats().framesOut - f0.r;
process.stdout.write(`direction ${values.direction}, ${values.mib} MiB in ${values.chunk} B writes, window ${win ?? 'default'}, node ${process.version}\n`);
process.stdout.write(`sender frames/GiB ${(s / gib).toFixed(0)}, receiver frames/GiB ${(r / gib).toFixed(0)}\n`);
process.stdout.write(`CPU ms/GiB ${((cpu.user + cpu.system) / 1000 / gib).toFixed(0)} (user ${(cpu.user / 1000 / gib).toFixed(0)}, system ${(cpu.system / 1000 / gib).toFixed(0)}), ${(total / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s\n`);
inStream.on('error', () => {});
out.on('error', () => {});
out.destroy();
clientSession.close('NORMAL', 'done');
ws.terminate();
server.close();
wss.close();
