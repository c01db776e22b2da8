// The systemd layout (ARCHITECTURE.md §1, §5): one process per role on one data dir, as the
// drover-{cluster,node,fleet}-agent units run them. All three share the SQLite store; status shows
// each role's own process, and a role whose process died is reported disconnected, never connected.
import t from 'tap';
import path from 'node:path';
import { agentStatus, createToken, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

t.test('one process per role on one data dir', async (t) => {
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const agentDir = path.join(dir, 'agent');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(serverDir), '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);

  const procs = ['cluster', 'node', 'fleet'].map((role) => ({ role, proc: startAgent(agentDir, ['--roles', role]) }));
  t.teardown(() => Promise.all(procs.map((p) => p.proc.stop())));
  const status = await waitFor('three roles connected from three processes', async () => {
    const s = await agentStatus(agentDir);
    return s.roles.every((r) => r.state === 'connected') ? s : undefined;
  }).catch((err: unknown) => {
    for (const p of procs) t.comment(`${p.role} (running: ${p.proc.running}):\n${p.proc.output.slice(-3000)}`);
    throw err;
  });
  const pids = status.roles.map((r) => r.pid);
  t.same(pids.sort(), procs.map((p) => p.proc.pid).sort(), 'each role row is owned by its own process');

  const node = procs.find((p) => p.role === 'node')!.proc;
  await node.stop('SIGKILL');
  const after = await waitFor('the killed role reported down', async () => {
    const s = await agentStatus(agentDir);
    return s.roles.find((r) => r.name === 'node')?.state === 'disconnected' ? s : undefined;
  });
  t.match(after.roles.find((r) => r.name === 'node')!.lastError, 'agent process not running', 'a dead process is never shown connected');
  t.ok(after.roles.filter((r) => r.name !== 'node').every((r) => r.state === 'connected'), 'the other roles are unaffected');
});
