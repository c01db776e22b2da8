import t from 'tap';
import { noProxyMatches, proxyForUrl } from './proxy-env.ts';

t.test('proxy: HTTPS_PROXY applies to the server URL; lowercase wins like curl', async (t) => {
  t.equal(proxyForUrl('https://s.example:9443', {})?.href, undefined, 'no proxy configured: direct');
  t.equal(proxyForUrl('https://s.example:9443', { HTTPS_PROXY: 'http://p:3128' })?.host, 'p:3128');
  t.equal(proxyForUrl('https://s.example', { https_proxy: 'p2:8080', HTTPS_PROXY: 'http://p:3128' })?.host, 'p2:8080');
});

t.test('proxy: only http:// CONNECT proxies are accepted, naming HTTPS_PROXY', async (t) => {
  t.throws(() => proxyForUrl('https://s', { HTTPS_PROXY: 'socks5://p:1080' }), { code: 'INVALID_CONFIG', message: /HTTPS_PROXY/ });
});

t.test('proxy: NO_PROXY exempts hosts, domains, IPs, ports and *', async (t) => {
  t.ok(noProxyMatches('*', 'anything', 1));
  t.ok(noProxyMatches('localhost,127.0.0.1', '127.0.0.1', 9443));
  t.ok(noProxyMatches('.example.com', 'a.example.com', 443));
  t.ok(noProxyMatches('example.com', 'example.com', 443));
  t.ok(noProxyMatches('example.com', 'deep.a.example.com', 443));
  t.notOk(noProxyMatches('example.com', 'badexample.com', 443), 'suffix match is on label boundaries');
  t.ok(noProxyMatches('s.example:9443', 's.example', 9443));
  t.notOk(noProxyMatches('s.example:9443', 's.example', 443), 'a port-qualified entry only matches that port');
  t.ok(noProxyMatches('[::1]', '[::1]', 443));
  t.ok(noProxyMatches('::1', '::1', 443));
  t.notOk(noProxyMatches('', 'x', 1));
  t.equal(proxyForUrl('https://127.0.0.1:9443', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '127.0.0.1' }), undefined);
});
