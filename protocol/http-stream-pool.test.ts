// Keep-alive HTTP over tunnel streams (SPEC.md §10.2, decision 1200): a real session pair and the
// real stream HTTP server; the pool's idle timeout runs on a ManualClock.
import t from 'tap';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { createStreamHttpServer } from './http-over-stream.ts';
import { HttpStreamPool, KEEPALIVE_METADATA, retryable, type PooledExchange } from './http-stream-pool.ts';
import { ManualClock } from './manual-clock.ts';
import { bothReady, sessionPair } from './session-pair.ts';
import type { TunnelStream } from './tunnel-stream.ts';

const TARGET = 'http:echo';

async function setup(opts: { maxIdlePerTarget?: number; idleTimeoutMs?: number } = {}) {
  const pair = sessionPair();
  const opened: TunnelStream[] = [];
  /** Exchanges served per stream, by the agent side. */
  const served = new Map<Duplex, number>();
  const http = createStreamHttpServer({
    request(req, res) {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      // The race of reuse: the agent drops the stream as a request arrives on it, no byte answered.
      if (req.url === '/drop-if-reused' && n > 1) return void req.socket.destroy();
      let body = 0;
      req.on('data', (d: Buffer) => (body += d.length));
      req.on('end', () => {
        if (req.url === '/close') res.setHeader('connection', 'close');
        const text = JSON.stringify({ method: req.method, url: req.url, user: req.headers['x-drover-user'] ?? null, body, n });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      });
    },
  });
  pair.client.on('stream', (st: TunnelStream) => {
    opened.push(st);
    st.on('error', () => {});
    http.serve(st);
  });
  await bothReady(pair.client, pair.server);
  const clock = new ManualClock();
  const pool = new HttpStreamPool({ open: (target, metadata) => pair.server.openStream(target, metadata), clock, ...opts });
  return { pair, pool, clock, opened };
}

async function json(x: PooledExchange): Promise<{ method: string; url: string; user: string | null; body: number; n: number }> {
  if (x.result.kind !== 'response') throw new Error('expected a response');
  let s = '';
  for await (const c of x.result.response as IncomingMessage) s += String(c);
  return JSON.parse(s) as { method: string; url: string; user: string | null; body: number; n: number };
}

/** Node hands the stream back on the next tick after the response ended. */
const settle = () => new Promise<void>((r) => setImmediate(r));

t.test('pool: sequential requests share one stream; headers are each request\'s own', async (t) => {
  const { pool, opened } = await setup();
  for (let i = 0; i < 20; i++) {
    const user = i % 2 === 0 ? 'alice' : 'bob';
    const post = i % 5 === 4;
    const x = await pool.request(TARGET, { method: post ? 'POST' : 'GET', path: `/r${i}`, headers: { 'x-drover-user': user, ...(post ? { 'content-length': 3 } : {}) }, ...(post ? { body: 'abc' } : {}) });
    t.equal(x.reused, i > 0, `request ${i} reused`);
    const a = await json(x);
    t.same([a.url, a.user, a.body, a.n], [`/r${i}`, user, post ? 3 : 0, i + 1], `request ${i} served as itself on exchange ${i + 1}`);
    await settle();
  }
  t.equal(opened.length, 1, 'one stream opened');
  t.equal(opened[0]?.metadata[KEEPALIVE_METADATA], '1', 'marked keep-alive');
  t.same(pool.stats(), { opened: 1, reused: 19, retried: 0, idle: 1 });
});

t.test('pool: a reused stream collects no listeners', async (t) => {
  const { pool } = await setup();
  let stream: Duplex | undefined;
  const counts: string[] = [];
  for (let i = 0; i < 30; i++) {
    const x = await pool.request(TARGET, { method: 'GET', path: '/' });
    await json(x);
    await settle();
    stream = x.stream;
    counts.push(['data', 'end', 'error', 'close', 'drain', 'free'].map((e) => stream?.listenerCount(e)).join(','));
  }
  t.equal(new Set(counts.slice(1)).size, 1, `listener counts stay ${counts[1]}`);
});

t.test('pool: concurrent requests get streams of their own; idle streams are bounded per target', async (t) => {
  const { pool, opened } = await setup({ maxIdlePerTarget: 2 });
  const xs = await Promise.all([1, 2, 3, 4].map((i) => pool.request(TARGET, { method: 'GET', path: `/c${i}` })));
  t.equal(new Set(xs.map((x) => x.stream)).size, 4, 'four streams in use at once');
  await Promise.all(xs.map(json));
  await settle();
  t.equal(opened.length, 4);
  t.equal(pool.idleCount(TARGET), 2, 'two kept idle');
  await settle();
  t.equal(opened.filter((s) => s.destroyed).length, 2, 'the other two closed');
});

t.test('pool: idle streams are closed after the idle timeout, on the agent side too', async (t) => {
  const { pool, clock, opened } = await setup({ idleTimeoutMs: 15_000 });
  await json(await pool.request(TARGET, { method: 'GET', path: '/' }));
  await settle();
  t.equal(pool.idleCount(), 1);
  clock.advance(14_999);
  t.equal(pool.idleCount(), 1);
  clock.advance(1);
  t.equal(pool.idleCount(), 0);
  await settle();
  t.ok(opened[0]?.destroyed, 'the agent side of the stream is gone');
  const x = await pool.request(TARGET, { method: 'GET', path: '/' });
  t.notOk(x.reused, 'a new stream after the timeout');
  await json(x);
});

t.test('pool: a stream the agent resets while idle is not reused', async (t) => {
  const { pool, opened } = await setup();
  await json(await pool.request(TARGET, { method: 'GET', path: '/' }));
  await settle();
  opened[0]?.reset('STREAM_CANCELLED', 'agent dropped it');
  await settle();
  t.equal(pool.idleCount(), 0, 'forgotten at once');
  const x = await pool.request(TARGET, { method: 'GET', path: '/' });
  t.notOk(x.reused);
  t.equal((await json(x)).n, 1);
  t.equal(opened.length, 2);
});

t.test('pool: a stream aborted or destroyed mid-exchange, or answered with close, is not reused', async (t) => {
  const { pool, opened } = await setup();
  const x = await pool.request(TARGET, { method: 'GET', path: '/close' });
  await json(x);
  await settle();
  t.equal(pool.idleCount(), 0, 'Connection: close');
  const y = await pool.request(TARGET, { method: 'GET', path: '/' });
  y.stream.destroy();
  await settle();
  t.equal(pool.idleCount(), 0, 'destroyed by its user before the body was read');
  const ac = new AbortController();
  ac.abort();
  await t.rejects(pool.request(TARGET, { method: 'GET', path: '/' }, { signal: ac.signal }), 'an aborted signal fails the request');
  await settle();
  t.equal(pool.idleCount(), 0);
  t.equal(opened.length, 3, 'each took a new stream');
});

t.test('pool: the race of reuse — an idempotent request is retried once on a new stream, others fail', async (t) => {
  const { pool, opened } = await setup();
  await json(await pool.request(TARGET, { method: 'GET', path: '/first' }));
  await settle();
  const x = await pool.request(TARGET, { method: 'GET', path: '/drop-if-reused' });
  t.notOk(x.reused, 'the answer came on a new stream');
  t.same((await json(x)).n, 1, 'served as the first exchange of that stream');
  t.equal(pool.stats().retried, 1);
  await settle();
  // Now a POST on a reused stream that the agent drops: not retried.
  t.equal(pool.idleCount(), 1);
  await t.rejects(pool.request(TARGET, { method: 'POST', path: '/drop-if-reused', headers: { 'content-length': 1 }, body: 'x' }), 'a POST is never sent twice');
  t.equal(pool.stats().retried, 1);
  t.equal(opened.length, 2, 'no stream opened for a retry');
});

t.test('pool: abort destroys the stream only while the exchange holds it', async (t) => {
  const { pool, opened } = await setup();
  const x = await pool.request(TARGET, { method: 'GET', path: '/a' });
  await json(x);
  await settle();
  t.equal(pool.idleCount(), 1, 'back in the pool');
  x.abort();
  await settle();
  t.notOk(x.stream.destroyed, 'a late abort (client gone after the end) leaves the pooled stream alone');
  const y = await pool.request(TARGET, { method: 'GET', path: '/b' });
  t.ok(y.reused, 'the next request still gets it');
  t.equal(y.stream, x.stream);
  y.abort();
  await settle();
  t.ok(y.stream.destroyed, 'an abort before the body was read destroys it');
  t.equal(pool.idleCount(), 0);
  t.equal(opened.length, 1);
});

t.test('pool: retryable is GET/HEAD without a body', async (t) => {
  t.ok(retryable({ method: 'GET' }));
  t.ok(retryable({ method: 'HEAD' }));
  t.notOk(retryable({ method: 'GET', body: 'x' }));
  t.notOk(retryable({ method: 'DELETE' }));
  t.notOk(retryable({ method: 'POST' }));
});

t.test('pool: close closes idle streams', async (t) => {
  const { pool, opened } = await setup();
  await json(await pool.request(TARGET, { method: 'GET', path: '/' }));
  await settle();
  pool.close();
  await settle();
  t.equal(pool.idleCount(), 0);
  t.ok(opened[0]?.destroyed);
});
