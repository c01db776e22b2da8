import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { ConnectProxyAgent } from './connect-proxy-agent.ts';
import { httpsRequest } from './https-client.ts';

/** A CONNECT proxy on 127.0.0.1:0 that records what it was asked and answers `status`. */
async function fakeProxy(teardown: (fn: () => void) => void, status: number): Promise<{ url: URL; asked: { target: string; auth: string | undefined }[] }> {
  const asked: { target: string; auth: string | undefined }[] = [];
  const srv = http.createServer();
  srv.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    asked.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
    socket.end(`HTTP/1.1 ${status} Nope\r\n\r\n`);
  });
  srv.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  teardown(() => srv.close());
  return { url: new URL(`http://user:p%40ss@127.0.0.1:${(srv.address() as net.AddressInfo).port}`), asked };
}

t.test('proxy agent: asks the proxy to CONNECT host:port with Basic proxy credentials', async (t) => {
  const proxy = await fakeProxy((fn) => t.teardown(fn), 403);
  const agent = new ConnectProxyAgent(proxy.url);
  await t.rejects(
    httpsRequest({ method: 'GET', url: 'https://drover.invalid:9443/v1/ca', transport: { agent, proxy: proxy.url }, ca: 'insecure' }),
    { code: 'SERVER_UNREACHABLE', message: /refused CONNECT drover\.invalid:9443: 403/ },
    'a proxy refusal is SERVER_UNREACHABLE (exit 3) naming the proxy answer',
  );
  t.equal(proxy.asked.length, 1);
  t.equal(proxy.asked[0]!.target, 'drover.invalid:9443', 'the target is host:port, resolved by the proxy, not by us');
  t.equal(proxy.asked[0]!.auth, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
});

t.test('proxy agent: an unreachable proxy is SERVER_UNREACHABLE', async (t) => {
  const agent = new ConnectProxyAgent(new URL('http://127.0.0.1:1'));
  await t.rejects(
    httpsRequest({ method: 'GET', url: 'https://127.0.0.1:9443/v1/ca', transport: { agent, proxy: undefined }, ca: 'insecure' }),
    { code: 'SERVER_UNREACHABLE' },
  );
});
