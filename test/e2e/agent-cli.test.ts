// The `drover agent` command surface: every subcommand's --help shows an example and its
// DROVER_… mirrors, env mirrors work, invalid flags exit 2 naming the flag.
import t from 'tap';
import path from 'node:path';
import { drover, testDir } from './agent-helpers.ts';

t.test('agent cli: every subcommand documents an example and env mirrors', async (t) => {
  for (const sub of ['register', 'run', 'status', 'unregister']) {
    const r = await drover(['agent', sub, '--help']);
    t.equal(r.exitCode, 0, `${sub} --help exits 0`);
    t.match(r.stdout, /Example:\n\s+drover agent /, `${sub} --help shows an example`);
    t.match(r.stdout, 'DROVER_AGENT_DATA_DIR', `${sub} --help names its env mirror`);
  }
  const reg = await drover(['agent', 'register', '--help']);
  for (const env of ['DROVER_SERVER', 'DROVER_TOKEN', 'DROVER_AGENT_NAME', 'DROVER_AGENT_LABELS', 'DROVER_KUBECONFIG']) t.match(reg.stdout, env);
  const run = await drover(['agent', 'run', '--help']);
  for (const env of ['DROVER_AGENT_ROLES', 'DROVER_AGENT_BACKOFF_CAP', 'HTTPS_PROXY']) t.match(run.stdout, env);
});

t.test('agent cli: invalid values exit 2 (usage) naming the flag', async (t) => {
  const dir = testDir(t);
  const roles = await drover(['agent', 'run', '--roles', 'cluster,server', '--data-dir', dir]);
  t.equal(roles.exitCode, 2);
  t.match(roles.stderr, /INVALID_CONFIG: --roles/);
  const server = await drover(['agent', 'register', '--server', 'http://plain:80', '--token', 'x', '--data-dir', path.join(dir, 'x')]);
  t.equal(server.exitCode, 2);
  t.match(server.stderr, /--server/);
  const cap = await drover(['agent', 'run', '--backoff-cap', 'soon', '--data-dir', dir]);
  t.equal(cap.exitCode, 2);
  t.match(cap.stderr, /--backoff-cap/);
});

t.test('agent cli: env mirrors stand in for flags', async (t) => {
  const dir = path.join(testDir(t), 'none');
  const r = await drover(['agent', 'status'], { DROVER_AGENT_DATA_DIR: dir });
  t.equal(r.exitCode, 1);
  t.match(r.stderr, `NOT_REGISTERED: no agent state in ${dir}`, 'DROVER_AGENT_DATA_DIR was used');
  const reg = await drover(['agent', 'register', '--data-dir', dir], { DROVER_SERVER: 'https://127.0.0.1:1', DROVER_TOKEN: 'garbage' });
  t.equal(reg.exitCode, 4, 'DROVER_TOKEN was read (and refused as malformed, before any I/O)');
  t.match(reg.stderr, 'TOKEN_MALFORMED');
});
