// Targets on the agent side of every path, real servers on 127.0.0.1 port 0: TCP and WebSocket
// sinks and sources, a TCP target that never reads (head-of-line) and an HTTP echo server. They
// speak the shapes of lib/sink.ts and echo bodies, like bench/remotedialer/targets.go.

import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { ACK, HeaderReader, SinkCounter, filler, pieces } from '../lib/sink.ts';

/** Write size of every source, the same as the senders' (config.ts chunkBytes). */
const SOURCE_CHUNK = 64 * 1024;
const SOURCE_FILL = filler(SOURCE_CHUNK);
/** Unacknowledged ws.send calls a WebSocket source allows: bounded, like lib/throughput.ts. */
const WS_IN_FLIGHT = 16;

export interface Targets {
  readonly tcpSink: number;
  readonly tcpSource: number;
  readonly wsSource: number;
  readonly tcpStall: number;
  readonly wsSink: number;
  readonly httpEcho: number;
  close(): Promise<void>;
}

/** Reads a sink transfer from any byte stream and acknowledges it. */
export function sinkOn(stream: Duplex): void {
  const counter = new SinkCounter();
  stream.on('data', (chunk: Buffer) => {
    if (counter.feed(chunk)) stream.end(ACK);
  });
  stream.on('error', () => stream.destroy());
}

/** Answers the 8-byte count with that many bytes, honouring write()'s backpressure. */
export function sourceOn(stream: Duplex): void {
  const header = new HeaderReader();
  stream.on('error', () => stream.destroy());
  stream.on('data', function onData(chunk: Buffer) {
    header.feed(chunk);
    if (header.value < 0) return;
    stream.off('data', onData);
    const it = pieces(header.value, SOURCE_CHUNK);
    const pump = (): void => {
      for (let n = it.next(); !n.done; n = it.next()) {
        if (!stream.write(n.value === SOURCE_CHUNK ? SOURCE_FILL : SOURCE_FILL.subarray(0, n.value))) {
          return void stream.once('drain', pump);
        }
      }
      stream.end();
    };
    pump();
  });
}

/** The WebSocket source: binary messages of SOURCE_CHUNK, a bounded number in flight. */
function wsSourceOn(ws: WebSocket): void {
  const header = new HeaderReader();
  ws.once('message', (data: Buffer) => {
    header.feed(data);
    const it = pieces(header.value, SOURCE_CHUNK);
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < WS_IN_FLIGHT) {
        const n = it.next();
        if (n.done) return;
        inFlight++;
        ws.send(n.value === SOURCE_CHUNK ? SOURCE_FILL : SOURCE_FILL.subarray(0, n.value), () => {
          inFlight--;
          pump();
        });
      }
    };
    pump();
  });
}

/** Answers every request with its own body (1 KiB in the latency runs). */
export function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    const body = Buffer.concat(parts);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
}

/** Holds a stream open without reading it: its window fills and its sender must stop. */
export function stallOn(stream: Duplex): void {
  stream.pause();
  stream.on('error', () => stream.destroy());
}

function port(server: net.Server | http.Server | WebSocketServer): number {
  const addr = server.address();
  return typeof addr === 'object' && addr !== null ? (addr as AddressInfo).port : 0;
}

function listening(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

export async function startTargets(): Promise<Targets> {
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const sink = net.createServer((s) => {
    track(s);
    s.setNoDelay(true);
    sinkOn(s);
  });
  const source = net.createServer((s) => {
    track(s);
    s.setNoDelay(true);
    sourceOn(s);
  });
  const stall = net.createServer((s) => {
    track(s);
    stallOn(s);
  });
  const echoServer = http.createServer(echo);
  echoServer.keepAliveTimeout = 60_000;
  echoServer.on('connection', track);
  const wsHttp = http.createServer();
  wsHttp.on('connection', track);
  const wss = new WebSocketServer({ server: wsHttp, maxPayload: 1024 * 1024 });
  const wsSourceHttp = http.createServer();
  wsSourceHttp.on('connection', track);
  const wssSource = new WebSocketServer({ server: wsSourceHttp, maxPayload: 1024 });
  wssSource.on('connection', wsSourceOn);
  wss.on('connection', (ws) => {
    const counter = new SinkCounter();
    ws.on('message', (data: Buffer) => {
      if (counter.feed(data)) ws.send(ACK);
    });
  });
  const servers = [sink, source, stall, echoServer, wsHttp, wsSourceHttp];
  await Promise.all(servers.map(listening));
  return {
    tcpSink: port(sink),
    tcpSource: port(source),
    wsSource: port(wsSourceHttp),
    tcpStall: port(stall),
    wsSink: port(wsHttp),
    httpEcho: port(echoServer),
    async close() {
      for (const s of sockets) s.destroy();
      wss.close();
      wssSource.close();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
