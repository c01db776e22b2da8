import t from 'tap';
import { encodeLine, LineReader, parseAnswer, parseRequest, PeerHeaderError } from './peer-header.ts';
import { MAX_PEER_HEADER_BYTES } from './limits.ts';

t.test('peer header: an open request round-trips; bad ones are refused with a reason', async (t) => {
  const open = { v: 1 as const, op: 'open' as const, agentId: 'a1', role: 'cluster' as const, sessionId: 's1', target: 'http:kube-apiserver', metadata: { user: 'alice' } };
  t.same(parseRequest(encodeLine(open).toString().trimEnd()), open);
  t.same(parseRequest('{"v":1,"op":"kick","clusterId":"c1"}'), { v: 1, op: 'kick', clusterId: 'c1' });
  for (const [line, why] of [
    ['nope', /not JSON/],
    ['{"v":2,"op":"open"}', /version 2/],
    ['{"v":1,"op":"shout"}', /unknown peer link op/],
    ['{"v":1,"op":"open","agentId":"a","role":"boss","target":"x","metadata":{}}', /role/],
    ['{"v":1,"op":"open","agentId":"a","role":"cluster","target":"x","metadata":{"n":1}}', /metadata/],
    ['{"v":1,"op":"kick"}', /clusterId/],
  ] as const) t.throws(() => parseRequest(line), why);
});

t.test('peer header: answers parse; anything else is malformed', async (t) => {
  t.same(parseAnswer('{"ok":true}'), { ok: true });
  t.same(parseAnswer('{"ok":false,"code":"NOT_HERE","message":"moved"}'), { ok: false, code: 'NOT_HERE', message: 'moved' });
  t.throws(() => parseAnswer('{"ok":false,"code":"WHATEVER","message":"x"}'), PeerHeaderError);
});

t.test('peer header: the line reader splits at the first newline across chunks and bounds the line', async (t) => {
  const r = new LineReader();
  t.equal(r.push(Buffer.from('{"ok"')), undefined);
  const got = r.push(Buffer.from(':true}\nHTTP/1.1'));
  t.equal(got?.line, '{"ok":true}');
  t.equal(got?.rest.toString(), 'HTTP/1.1', 'stream bytes after the header are kept');
  const big = new LineReader();
  t.throws(() => big.push(Buffer.alloc(MAX_PEER_HEADER_BYTES + 1, 0x61)), /longer than/);
});

t.test('peer header: close names an agent and a reason a peer may ask for', async (t) => {
  const close = { v: 1, op: 'close', agentId: 'a1', reason: 'revoked' } as const;
  t.same(parseRequest(encodeLine(close).toString().trim()), close);
  t.throws(() => parseRequest('{"v":1,"op":"close","agentId":"a1","reason":"superseded"}'), /reason/, 'never superseded or shutdown');
  t.throws(() => parseRequest('{"v":1,"op":"close","reason":"deleted"}'), /agentId/);
});
