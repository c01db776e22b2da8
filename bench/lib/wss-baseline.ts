// Baseline for the idle-tunnel benchmark: a bare `ws` server over TLS in its own process, holding
// idle WebSocket connections. What a Drover tunnel costs beyond this is the protocol, the session
// registry and the server's bookkeeping. Run as a child: `node bench/lib/wss-baseline.ts CERT KEY`.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { WebSocketServer } from 'ws';

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cert, key] = process.argv.slice(2);
  if (!cert || !key) throw new Error('usage: wss-baseline.ts CERT KEY');
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('error', () => undefined));
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    if (a && typeof a !== 'string') process.stdout.write(`${JSON.stringify({ port: a.port })}\n`);
  });
  process.on('message', () => undefined);
  setInterval(() => {
    process.stdout.write(`${JSON.stringify({ clients: wss.clients.size })}\n`);
  }, 1000).unref();
}
