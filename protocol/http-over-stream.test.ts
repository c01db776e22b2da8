// HTTP/1.1 over a tunnel stream (SPEC.md §10): requests with streaming bodies, upgrades (exec,
// port-forward), bounded heads, and resets surfacing as structured errors.
import t from 'tap';
import { Readable } from 'node:stream';
import { createStreamHttpServer, KUBE_API_TARGET, requestOverStream } from './http-over-stream.ts';
import { TunnelError } from './errors.ts';
import { sessionPair } from './session-pair.ts';

function setup() {
  const pair = sessionPair();
  const http = createStreamHttpServer({
    request(req, res) {
      if (req.url === '/slow-body') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        Readable.from((function* () { for (let i = 0; i < 64; i++) yield Buffer.alloc(16384, i); })()).pipe(res);
        return;
      }
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => {
        res.setHeader('x-body-bytes', String(n));
        res.setHeader('x-impersonate', String(req.headers['impersonate-user'] ?? ''));
        res.end(`${req.method} ${req.url}`);
      });
    },
    upgrade(_req, socket, head) {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    },
  });
  pair.client.on('stream', (st) => {
    st.on('error', () => {});
    if (st.target === KUBE_API_TARGET) http.serve(st);
    else st.reset('STREAM_REFUSED', `no such target ${st.target}`);
  });
  return pair;
}

async function text(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
}

t.test('http: a request with a streamed body gets status, headers and body back', async (t) => {
  const { server } = setup();
  const body = Readable.from([Buffer.alloc(100_000, 1), Buffer.alloc(50_000, 2)]);
  const r = await requestOverStream(server.openStream(KUBE_API_TARGET), { method: 'POST', path: '/api/v1/namespaces?dryRun=All', headers: { host: 'kube', 'impersonate-user': 'alice' }, body });
  t.equal(r.kind, 'response');
  if (r.kind !== 'response') return;
  t.equal(r.response.statusCode, 200);
  t.equal(r.response.headers['x-body-bytes'], '150000');
  t.equal(r.response.headers['x-impersonate'], 'alice');
  t.equal(await text(r.response), 'POST /api/v1/namespaces?dryRun=All');
});

t.test('http: a long response body streams through the window', async (t) => {
  const { server } = setup();
  const r = await requestOverStream(server.openStream(KUBE_API_TARGET), { method: 'GET', path: '/slow-body' });
  if (r.kind !== 'response') return t.fail('expected a response');
  let n = 0;
  for await (const c of r.response) n += (c as Buffer).length;
  t.equal(n, 64 * 16384);
});

t.test('http: an upgrade request yields the raw duplex for SPDY/WebSocket traffic', async (t) => {
  const { server } = setup();
  const r = await requestOverStream(server.openStream(KUBE_API_TARGET), { method: 'POST', path: '/api/v1/namespaces/default/pods/p/exec?command=sh', headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1' } });
  t.equal(r.kind, 'upgrade');
  if (r.kind !== 'upgrade') return;
  t.equal(r.response.statusCode, 101);
  r.socket.write('stdin bytes');
  const echoed = await new Promise<string>((res) => r.socket.once('data', (d) => res(String(d))));
  t.equal(echoed, 'stdin bytes');
  r.socket.destroy();
});

t.test('http: a refused stream rejects the request with the structured reset', async (t) => {
  const { server } = setup();
  await t.rejects(requestOverStream(server.openStream('http:nothing-here'), { method: 'GET', path: '/' }), { code: 'STREAM_REFUSED' });
});

t.test('http: a request head above the limit is answered 431 and the stream ends', async (t) => {
  const { server } = setup();
  const r = await requestOverStream(server.openStream(KUBE_API_TARGET), { method: 'GET', path: '/', headers: { 'x-big': 'a'.repeat(70 * 1024) } });
  if (r.kind !== 'response') return t.fail('expected a response');
  t.equal(r.response.statusCode, 431);
});

t.test('http: garbage instead of a request is answered 400', async (t) => {
  const { server } = setup();
  const s = server.openStream(KUBE_API_TARGET);
  s.end('NOT HTTP AT ALL\r\n\r\n');
  const reply = await text(s);
  t.match(reply, /^HTTP\/1\.1 400 Bad Request/);
});

t.test('http: a response that is not HTTP rejects with HTTP_MALFORMED', async (t) => {
  const { client, server } = sessionPair();
  client.on('stream', (st) => st.on('error', () => {}).end('garbage garbage\r\n\r\n'));
  let caught: unknown;
  try {
    await requestOverStream(server.openStream('x'), { method: 'GET', path: '/' });
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof TunnelError && caught.code === 'HTTP_MALFORMED', String(caught));
});
