// Issue 16 / decision 1011: agents outside the server's support window are refused with a message
// naming both versions. Versions that do not exist yet are faked with "built variants"
// (skew-helpers.ts variantBuild: the current tree copied with another version in package.json, the
// one place the version comes from), so no test-only switch exists in the product:
// - a newer agent (variant 0.3.0) against the current server: refused at register and at connect
//   (X-Drover-Agent-Version); the agent keeps running and retries at the backoff cap; the server
//   logs the refusal once;
// - the real previous agent (0.1.0, which sends no header) against a newer server (variant 0.4.0):
//   refused at register and, once registered, right after its HELLO (close 4000).
import t from 'tap';
import path from 'node:path';
import { startServer, waitFor, type AgentStatusJson, type Proc, testDir } from '../e2e/agent-helpers.ts';
import { agentStatusOf, createTokenOf, currentBuild, previousBuild, run, startAgentOf, variantBuild, type Build } from './skew-helpers.ts';

/** The node role's status: the tests run only that role (`--roles node`). */
const node = (s: AgentStatusJson) => s.roles.find((r) => r.name === 'node');

/** JSON log lines of a process (pino). */
const logLines = (p: Proc): Record<string, unknown>[] => p.logs();

t.test('support window: refusals name both versions', async (t) => {
  const dir = testDir(t);
  const current = currentBuild();
  const previous = previousBuild();

  await t.test('an agent newer than the server: refused at register and at connect', async (t) => {
    const newer = variantBuild(dir, '0.3.0');
    const serverDir = path.join(dir, 'server-current');
    const srv = await startServer(serverDir, 0, { DROVER_LOG_LEVEL: 'info' }, '127.0.0.1', current.bin);
    t.teardown(() => srv.proc.stop());
    const register = (b: Build, agentDir: string, token: string) => run(b, ['agent', 'register', '--server', srv.url, '--token', token, '--data-dir', agentDir]);

    const token = await createTokenOf(current, serverDir, ['--uses', '2']);
    const refused = await register(newer, path.join(dir, 'agent-newer'), token);
    t.equal(refused.exitCode, 1, 'register exits 1');
    t.match(refused.stderr, /AGENT_VERSION_UNSUPPORTED: agent version 0\.3\.0 is newer than server version 0\.2\.0, which supports agents 0\.0\.0 to 0\.2\.x/);
    t.same(JSON.parse((await run(current, ['cluster', 'list', '--json', '--data-dir', serverDir])).stdout), [], 'nothing was enrolled');

    // Registered by the current agent, then the device runs a newer build on the same data dir.
    const agentDir = path.join(dir, 'agent-upgraded');
    const ok = await register(current, agentDir, token);
    t.equal(ok.exitCode, 0, ok.exitCode === 0 ? 'the 0.2.0 agent registers with the same token' : ok.stderr);
    const agent = startAgentOf(newer, agentDir, ['--roles', 'node']);
    t.teardown(() => agent.stop());
    const refusals = () => logLines(agent).filter((l) => l.msg === 'tunnel down; will retry' && String(l.err).startsWith('AGENT_VERSION_UNSUPPORTED'));
    await waitFor('three refused connects', () => refusals().length >= 3, 60_000);
    const st = await agentStatusOf(newer, agentDir);
    t.match(node(st)?.lastError, /^AGENT_VERSION_UNSUPPORTED: agent version 0\.3\.0 is newer than server version 0\.2\.0/, 'agent status says why');
    t.ok(agent.running, 'the agent keeps running (it retries at the backoff cap)');
    t.equal(logLines(agent).filter((l) => l.level === 50 && String(l.err).startsWith('AGENT_VERSION_UNSUPPORTED')).length, 1, 'the agent logs the refusal once at error, then at debug');
    const serverLines = logLines(srv.proc).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('agent version 0.3.0'));
    t.equal(serverLines.length, 2, 'the server logged the register refusal and the connect refusal once each, not per retry');
    t.match(serverLines[1], { level: 40, agentVersion: '0.3.0', serverVersion: '0.2.0', reason: 'too-new', at: 'connect' });
    await agent.stop();

    // Back on a version inside the window, the same identity connects.
    const back = startAgentOf(current, agentDir, ['--roles', 'node']);
    t.teardown(() => back.stop());
    await waitFor('the 0.2.0 agent connects again', async () => node(await agentStatusOf(current, agentDir))?.state === 'connected', 60_000);
    t.pass('connected with a supported version');
  });

  await t.test('the previous agent (no version header) against a server too new for it', async (t) => {
    const newerServer = variantBuild(dir, '0.4.0');
    const serverDir = path.join(dir, 'server-upgraded');
    let srv = await startServer(serverDir, 0, { DROVER_LOG_LEVEL: 'info' }, '127.0.0.1', current.bin);
    t.teardown(() => srv.proc.stop());
    const token = await createTokenOf(current, serverDir, ['--uses', '2']);
    const agentDir = path.join(dir, 'agent-previous');
    const reg = await run(previous, ['agent', 'register', '--server', srv.url, '--token', token, '--data-dir', agentDir]);
    t.equal(reg.exitCode, 0, reg.exitCode === 0 ? 'the 0.1.0 agent registers with the 0.2.0 server (inside its window)' : reg.stderr);

    // The server is upgraded two minors further, in place: 0.1.0 is now three minors back.
    const port = srv.port;
    await srv.proc.stop();
    srv = await startServer(serverDir, port, { DROVER_LOG_LEVEL: 'info' }, '127.0.0.1', newerServer.bin);
    t.match(JSON.parse((await run(newerServer, ['version', '--json'])).stdout), { version: '0.4.0' });

    const late = await run(previous, ['agent', 'register', '--server', srv.url, '--token', token, '--data-dir', path.join(dir, 'agent-previous-2')]);
    t.equal(late.exitCode, 1, 'a new registration of the 0.1.0 agent is refused');
    t.match(late.stderr, /AGENT_VERSION_UNSUPPORTED: agent version 0\.1\.0 is too old for server version 0\.4\.0, which supports agents 0\.2\.0 to 0\.4\.x/);

    const agent = startAgentOf(previous, agentDir, ['--roles', 'node']);
    t.teardown(() => agent.stop());
    const st = await waitFor('the 0.1.0 agent reports the refusal', async () => {
      const s = await agentStatusOf(previous, agentDir);
      return /UNSUPPORTED_VERSION/.test(node(s)?.lastError ?? '') ? s : undefined;
    }, 60_000);
    t.match(node(st)?.lastError, /agent version 0\.1\.0 is too old for server version 0\.4\.0/, "the previous agent's status names both versions (from the server's GOAWAY)");
    t.not(node(st)?.state, 'connected');
    await waitFor('a second refused connect', () => logLines(agent).filter((l) => l.msg === 'tunnel down; will retry' && /UNSUPPORTED_VERSION/.test(String(l.err))).length >= 2, 60_000);
    t.equal(logLines(srv.proc).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('agent version 0.1.0') && l.at === 'hello').length, 1, 'the server logged the HELLO refusal once');
  });
});
