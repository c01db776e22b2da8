// The ws binding's transport (ws-binding.ts) against a scripted WebSocketLike: when it asks ws for
// write callbacks, that drain and release follow them, and that closed sockets send nothing.
import t from 'tap';
import { WebSocketTransport, type WebSocketLike } from './ws-binding.ts';

class FakeWs {
  protocol = 'drover.v1';
  bufferedAmount = 0;
  readyState = 1;
  binaryType = 'nodebuffer';
  sends: Array<{ data: Uint8Array; cb: ((err?: Error) => void) | undefined }> = [];
  send(data: Uint8Array, cb?: (err?: Error) => void): void {
    this.sends.push({ data, cb });
  }
  close(): void {}
  terminate(): void {}
  on(): this {
    return this;
  }
  once(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }
}

t.test('ws transport: below half the high-water mark frames go without callbacks; above, with one that signals drain', async (t) => {
  const ws = new FakeWs();
  const tr = new WebSocketTransport(ws as unknown as WebSocketLike, 1000);
  let drained = 0;
  tr.onFlushed = () => drained++;
  tr.send(new Uint8Array(100));
  t.equal(ws.sends[0]?.cb, undefined);
  ws.bufferedAmount = 450;
  tr.send(new Uint8Array(100));
  t.type(ws.sends[1]?.cb, 'function', 'past half the mark a callback is attached');
  ws.sends[1]?.cb?.();
  t.equal(drained, 1);
  ws.sends[1]?.cb?.(new Error('socket died'));
  t.equal(drained, 1, 'a failed write does not signal drain');
});

t.test('ws transport: a frame sent with release is released once ws has written it', async (t) => {
  const ws = new FakeWs();
  const tr = new WebSocketTransport(ws as unknown as WebSocketLike, 1000);
  let released = 0;
  tr.send(new Uint8Array(10), () => released++);
  t.equal(released, 0, 'not while ws holds it');
  ws.sends[0]?.cb?.();
  t.equal(released, 1);
});

t.test('ws transport: a socket that is not open sends nothing and releases at once', async (t) => {
  const ws = new FakeWs();
  ws.readyState = 2;
  const tr = new WebSocketTransport(ws as unknown as WebSocketLike, 1000);
  let released = 0;
  tr.send(new Uint8Array(10), () => released++);
  t.equal(ws.sends.length, 0);
  t.equal(released, 1);
});

t.test('ws transport: the frames of one event-loop turn go out under one cork, uncorked in setImmediate', async (t) => {
  const log: string[] = [];
  const ws = Object.assign(new FakeWs(), { _socket: { cork: () => log.push('cork'), uncork: () => log.push('uncork') } });
  ws.send = (data: Uint8Array) => void log.push(`send ${data.length}`);
  const tr = new WebSocketTransport(ws as unknown as WebSocketLike, 1 << 20);
  tr.send(new Uint8Array(1));
  tr.send(new Uint8Array(2));
  await Promise.resolve();
  tr.send(new Uint8Array(3));
  t.same(log, ['cork', 'send 1', 'send 2', 'send 3'], 'microtasks do not end the turn');
  await new Promise((r) => setImmediate(r));
  t.same(log.slice(4), ['uncork']);
  tr.send(new Uint8Array(4));
  await new Promise((r) => setImmediate(r));
  t.same(log.slice(5), ['cork', 'send 4', 'uncork'], 'the next turn corks again');
});

t.test('ws transport: without an underlying socket (not ws), frames are sent one by one', async (t) => {
  const ws = new FakeWs();
  const tr = new WebSocketTransport(ws as unknown as WebSocketLike, 1 << 20);
  tr.send(new Uint8Array(1));
  tr.send(new Uint8Array(2));
  t.equal(ws.sends.length, 2);
});
