// Decision 1011 on a real in-process server of version 0.2.0: an agent outside the support window
// is refused at registration (nothing enrolled, the token use not spent), at the tunnel upgrade
// (X-Drover-Agent-Version) and, for agents too old to send that header, right after their HELLO
// (close 4000 with the message); each refusal names both versions and is logged once.
import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import { WebSocket } from 'ws';
import { attachWebSocket, MAX_WS_MESSAGE, offeredSubprotocols, type SessionCloseInfo } from '../../protocol/index.ts';
import { api, connectTunnel, createToken, errorCode, registerAgent, serverForTest, UpgradeRefused } from './server-harness.ts';

const facts = (agentVersion: string) => ({ hostname: 'edge', os: 'linux', arch: 'amd64', agentVersion });

function capturedLog(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { text += chunk.toString('utf8'); cb(); } });
  return { log: pino({ level: 'info' }, sink), lines: () => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

t.test('support window: refusals at register, upgrade and HELLO name both versions', async (t) => {
  const { log, lines } = capturedLog();
  const server = await serverForTest(t, { version: '0.2.0', log });
  const refusalLogs = () => lines().filter((l) => l.reason !== undefined && typeof l.agentVersion === 'string');

  await t.test('register: a newer agent is refused, the token keeps its use', async (t) => {
    const token = await createToken(server, { uses: 1 });
    const r = await api(server, 'POST', '/v1/register', { body: { token: token.secret, roles: ['cluster'], hostname: 'edge', facts: facts('0.3.0') } });
    t.equal(r.status, 400);
    t.equal(errorCode(r), 'AGENT_VERSION_UNSUPPORTED');
    t.match((r.json as { error: { message: string } }).error.message, /agent version 0\.3\.0 is newer than server version 0\.2\.0, which supports agents 0\.0\.0 to 0\.2\.x/);
    const again = await api(server, 'POST', '/v1/register', { body: { token: token.secret, roles: ['cluster'], hostname: 'edge', facts: facts('0.3.0') } });
    t.equal(again.status, 400);
    t.equal(refusalLogs().filter((l) => l.agentVersion === '0.3.0').length, 1, 'logged once for two refusals');
    // The one use is still there: an agent inside the window registers with the same token.
    const ok = await registerAgent(server, token.secret, { roles: ['cluster'], facts: facts('0.1.0') });
    t.ok(ok.agentId, 'a 0.1.0 agent (two minors back at most) registers');
  });

  const token = await createToken(server);
  const agent = await registerAgent(server, token.secret, { facts: facts('0.2.0') });

  await t.test('upgrade: X-Drover-Agent-Version outside the window is refused before the 101', async (t) => {
    const err = await connectTunnel(server, agent.credential, 'cluster', { headers: { 'x-drover-agent-version': '1.0.0' } }).catch((e: unknown) => e);
    t.ok(err instanceof UpgradeRefused);
    if (err instanceof UpgradeRefused) {
      t.equal(err.status, 400);
      t.match(err.body, { error: { code: 'AGENT_VERSION_UNSUPPORTED', message: /agent version 1\.0\.0 is of another major version than server version 0\.2\.0/ } });
    }
    const inside = await connectTunnel(server, agent.credential, 'cluster', { headers: { 'x-drover-agent-version': '0.2.7' } });
    await inside.ready;
    t.pass('a later patch of the same minor connects');
    inside.ws.close();
    await inside.closed;
  });

  await t.test('HELLO: an agent without the header is checked on the version in its HELLO', async (t) => {
    const ws = new WebSocket(`${server.url.replace(/^https/, 'wss')}/v1/connect`, offeredSubprotocols(), {
      ca: server.caPem, headers: { 'x-drover-role': 'node', authorization: `Bearer ${agent.credential}` }, maxPayload: MAX_WS_MESSAGE, perMessageDeflate: false,
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closedWs = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString('utf8') })));
    const session = attachWebSocket(ws, { side: 'client', peer: { role: 'node', version: '0.3.1' } });
    const info = await new Promise<SessionCloseInfo>((r) => session.once('close', r));
    t.equal(info.code, 'UNSUPPORTED_VERSION');
    t.ok(info.remote, 'the server closed it');
    t.match(info.message, /agent version 0\.3\.1 is newer than server version 0\.2\.0/);
    t.equal((await closedWs).code, 4000);
    t.equal(refusalLogs().filter((l) => l.agentVersion === '0.3.1' && l.at === 'hello').length, 1, 'the server logged it');
    t.equal(lines().filter((l) => l.msg === 'tunnel session failed' && (l.level as number) >= 40).length, 0, "and not again as the protocol's session failure");
  });
});
