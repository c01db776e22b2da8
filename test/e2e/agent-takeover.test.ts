// Issue 4 acceptance: killing the TCP connection under a live session without a close frame,
// then reconnecting, leaves the server with exactly one session for that agent and role. A relay
// between agent and server cuts the agent's side with a RST while keeping the server's side open
// and silent, so the server still holds a half-open session when the agent comes back: the newest
// connection must win and the old one be closed, never "session not found".
import t from 'tap';
import net from 'node:net';
import path from 'node:path';
import { agentStatus, createToken, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

interface Pair {
  agentSide: net.Socket;
  serverSide: net.Socket;
}

/** A TCP relay on 127.0.0.1:0 to `port`, remembering each connection pair. */
async function startRelay(port: number): Promise<{ port: number; pairs: Pair[]; close(): void }> {
  const pairs: Pair[] = [];
  const srv = net.createServer((agentSide) => {
    const serverSide = net.connect(port, '127.0.0.1');
    agentSide.pipe(serverSide);
    serverSide.pipe(agentSide);
    agentSide.on('error', () => {});
    serverSide.on('error', () => {});
    pairs.push({ agentSide, serverSide });
  });
  srv.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    pairs,
    close: () => {
      srv.close();
      for (const p of pairs) {
        p.agentSide.destroy();
        p.serverSide.destroy();
      }
    },
  };
}

interface SessionJson {
  id: string;
  role: string;
  since: string;
}

async function sessionsOf(serverDir: string, agentId: string): Promise<SessionJson[]> {
  const r = await drover(['identity', 'list', '--json', '--data-dir', serverDir]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  const agents = JSON.parse(r.stdout) as { id: string; sessions: SessionJson[] }[];
  return agents.find((a) => a.id === agentId)?.sessions ?? [];
}

t.test('session takeover after a half-open TCP connection', async (t) => {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const relay = await startRelay(server.port);
  t.teardown(() => relay.close());

  const token = await createToken(serverDir);
  const reg = await drover(['agent', 'register', '--server', `https://127.0.0.1:${relay.port}`, '--token', token, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const agent = startAgent(agentDir, ['--roles', 'cluster']);
  t.teardown(() => agent.stop());
  const status = await waitFor('connected', async () => {
    const s = await agentStatus(agentDir);
    return s.roles.find((r) => r.name === 'cluster')?.state === 'connected' ? s : undefined;
  });
  const first = await waitFor('one server session', async () => {
    const s = await sessionsOf(serverDir, status.agentId);
    return s.length === 1 ? s[0] : undefined;
  });

  // The live tunnel is the newest relay pair. Cut the agent's side with a RST; leave the server's
  // side open but silent (unpiped), exactly what a NAT box that lost its state looks like.
  const live = relay.pairs.at(-1)!;
  live.agentSide.unpipe(live.serverSide);
  live.serverSide.unpipe(live.agentSide);
  live.agentSide.resetAndDestroy();
  const pairsBefore = relay.pairs.length;

  let halfOpenAtTakeover = false;
  await waitFor('the agent to reconnect over a new TCP connection', async () => {
    const s = await agentStatus(agentDir);
    halfOpenAtTakeover = !live.serverSide.destroyed;
    return relay.pairs.length > pairsBefore && s.roles.find((r) => r.name === 'cluster')?.state === 'connected';
  });
  if (process.env.DEBUG_TAKEOVER) console.error(agent.output);
  const after = await waitFor('the new session registered', async () => {
    const s = await sessionsOf(serverDir, status.agentId);
    return s.length === 1 && s[0]!.id !== first.id ? s : undefined;
  });
  t.equal(after.length, 1, 'exactly one session for the agent');
  t.not(after[0]!.id, first.id, 'it is the new connection');
  t.ok(halfOpenAtTakeover, 'the old server-side socket was still open (half-open) when the agent came back');
  t.ok(
    server.proc.logs().some((l) => l.msg === 'tunnel connected' && l.agentId === status.agentId && l.replaced === first.id),
    'the server replaced the half-open session with the new one',
  );
  t.notMatch(agent.output, /session not found/i);
  const sessions = await sessionsOf(serverDir, status.agentId);
  t.equal(sessions.length, 1, 'still exactly one session afterwards');
});
