// Issue 15 acceptance, remote shell: real `drover` processes (server, an agent running only the node
// role, the CLI) and real pseudo-terminals on both ends. The client's terminal is made by util-linux
// `script` around `drover shell`, so the CLI sees a TTY exactly as in an interactive login: its
// window is resized with `stty -F`, Ctrl-C is the byte 0x03 typed into it. Non-TTY mode, exit
// codes, the refusal of read-only and member users, an owner's admission and the audit rows too.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { agentStatus, childEnv, createToken, drover, DROVER, startAgent, startServer, waitFor } from './agent-helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'drover-shell-'));
const serverDir = path.join(dir, 'server');
const agentDir = path.join(dir, 'agent');
const server = await startServer(serverDir);
const admin = (...args: string[]) => drover([...args, '--data-dir', serverDir]);
const shellAs = (...args: string[]) => drover(['shell', '--data-dir', serverDir, ...args]);
const reg = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(serverDir), '--name', 'edge-01', '--data-dir', agentDir]);
if (reg.exitCode !== 0) throw new Error(reg.stderr);
const agent = startAgent(agentDir, ['--roles', 'node']);
t.teardown(async () => {
  await agent.stop();
  await server.proc.stop();
  rmSync(dir, { recursive: true, force: true });
});
await waitFor('the node role to connect', async () => (await agentStatus(agentDir)).roles.find((r) => r.name === 'node')?.state === 'connected');
const { nodeId, clusterId } = await agentStatus(agentDir);

/** `drover shell` with a real terminal around it (util-linux script), fed by `input` chunks. */
function inTerminal(shellArgs: string[], rows: number, cols: number) {
  const ttyFile = path.join(dir, `client-tty-${Math.random().toString(36).slice(2)}`);
  const inner = `stty rows ${rows} cols ${cols}; tty > ${ttyFile}; exec ${[DROVER, 'shell', ...shellArgs].map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('script', ['-q', '-e', '-c', inner, '/dev/null'], { env: childEnv({ DROVER_LOG_LEVEL: 'warn', TERM: 'xterm' }), stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    type: (s: string) => void child.stdin.write(s),
    output: () => output,
    clientTty: () => (existsSync(ttyFile) ? readFileSync(ttyFile, 'utf8').trim() : undefined),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

t.test('node facts: the node role reports OS, memory, disks and Kubernetes on the node (none here)', async (t) => {
  const extras = await waitFor('node facts', async () => {
    const c = JSON.parse((await admin('cluster', 'get', clusterId, '--json')).stdout) as { nodes: { facts: { extras?: Record<string, string> } }[] };
    return c.nodes[0]?.facts.extras?.['node.os'] ? c.nodes[0].facts.extras : undefined;
  });
  t.equal(extras['node.kubernetes.distribution'], 'none', 'no k3s, rke2, kubeadm or kubelet on this machine');
  t.ok(Number(extras['node.memoryBytes']) > 0);
  t.ok(Number(extras['node.cpus']) >= 1);
  t.ok((JSON.parse(extras['node.disks'] ?? '[]') as unknown[]).length >= 1, 'at least the root filesystem');
});

t.test('shell: a command in a real PTY answers tty and stty size, and its exit code is drover\'s', async (t) => {
  const term = inTerminal([nodeId, '--data-dir', serverDir, '--', 'sh', '-c', 'tty; stty size; exit 5'], 33, 99);
  t.equal(await term.exited, 5, 'exit code 5 propagated through server and tunnel');
  t.match(term.output(), /\/dev\/pts\/\d+/, 'the remote command has a terminal');
  t.match(term.output(), /33 99/, 'with the window size of the client terminal');
});

t.test('shell: interactive login shell follows a window resize, Ctrl-C interrupts the remote command', async (t) => {
  const term = inTerminal([nodeId, '--data-dir', serverDir], 24, 80);
  t.teardown(() => term.kill());
  const client = await waitFor('the client terminal name', () => term.clientTty());
  term.type('PS1="$ "; stty size\r');
  await waitFor('the first size', () => /24 80/.test(term.output()));
  // The kernel sends SIGWINCH to drover; drover sends a resize frame; the node resizes its PTY.
  await execa('stty', ['-F', client, 'rows', '41', 'cols', '123']);
  await waitFor('the new size', async () => {
    term.type('stty size\r');
    await new Promise((r) => setTimeout(r, 300));
    return /41 123/.test(term.output());
  });
  term.type('sleep 300; echo "after sleep"\r');
  await new Promise((r) => setTimeout(r, 500));
  term.type('\x03');
  term.type('echo "rc=$?"\r');
  await waitFor('the interrupted sleep', () => /rc=130/.test(term.output()), 20_000);
  t.notMatch(term.output(), /after sleep\r?\n/, 'the interrupted command list did not go on');
  term.type('exit 3\r');
  t.equal(await term.exited, 3, 'the login shell\'s exit code');
});

t.test('shell: without a TTY stdout and stderr stay apart, stdin is piped, exit code propagated', async (t) => {
  const r = await execa(DROVER, ['shell', nodeId, '--data-dir', serverDir, '--', 'sh', '-c', 'read line; echo "out:$line"; echo err >&2; tty; exit 7'], {
    input: 'hello\n',
    reject: false,
    env: childEnv({ DROVER_LOG_LEVEL: 'warn' }),
    extendEnv: false,
    stripFinalNewline: false,
  });
  t.equal(r.exitCode, 7);
  t.match(String(r.stdout), /^out:hello\nnot a tty\n$/);
  t.equal(String(r.stderr), 'err\n');
  const nodeName = (JSON.parse((await admin('cluster', 'get', clusterId, '--json')).stdout) as { nodes: { name: string }[] }).nodes[0]?.name ?? '?';
  const byName = await execa(DROVER, ['shell', nodeName, '--data-dir', serverDir, '--', 'uname', '-s'], { reject: false, env: childEnv({ DROVER_LOG_LEVEL: 'warn' }), extendEnv: false, stdin: 'ignore' });
  t.equal(byName.exitCode, 0, `the node can be named by its name ${nodeName} (${String(byName.stderr)})`);
  t.equal(String(byName.stdout), 'Linux');
  const missing = await shellAs(nodeId, '--', 'no-such-command-here');
  t.equal(missing.exitCode, 127, 'command not found is 127, as in a shell');
  t.match(missing.stderr, /no-such-command-here: command not found/);
});

t.test('shell: Ctrl-C without a TTY sends SIGINT to the remote command', async (t) => {
  const child = spawn(DROVER, ['shell', nodeId, '--data-dir', serverDir, '--', 'sh', '-c', 'trap "echo got INT; exit 42" INT; echo ready; while :; do sleep 0.1; done'], {
    env: childEnv({ DROVER_LOG_LEVEL: 'warn' }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor('the remote command to start', () => out.includes('ready'));
  child.kill('SIGINT');
  t.equal(await exited, 42);
  t.match(out, /got INT/);
});

t.test('shell: only global admins and cluster owners; read-only and members are refused with a message', async (t) => {
  for (const [user, role] of [['rita', 'read-only'], ['mark', 'cluster-member'], ['olga', 'cluster-owner']] as const) {
    t.equal((await admin('user', 'create', user)).exitCode, 0);
    t.equal((await admin('role', 'bind', user, '--cluster', clusterId, '--role', role)).exitCode, 0);
  }
  t.equal((await admin('user', 'create', 'nobody')).exitCode, 0);
  const tokenOf = async (user: string): Promise<string> => (await admin('user', 'token', 'create', user)).stdout.trim();
  const as = async (user: string) =>
    drover(['shell', nodeId, '--server', server.url, '--token', await tokenOf(user), '--ca-file', path.join(serverDir, 'tls', 'ca.crt'), '--', 'id', '-u']);
  const rita = await as('rita');
  t.equal(rita.exitCode, 4, 'read-only: refused');
  t.match(rita.stderr, /FORBIDDEN: user rita has the role read-only on cluster .*; drover shell needs cluster-owner on that cluster or the global admin role/);
  const mark = await as('mark');
  t.equal(mark.exitCode, 4, 'member: refused');
  t.match(mark.stderr, /has the role cluster-member/);
  const nobody = await as('nobody');
  t.equal(nobody.exitCode, 1, 'no role: the node does not exist for them');
  t.match(nobody.stderr, /NODE_NOT_FOUND/);
  const olga = await as('olga');
  t.equal(olga.exitCode, 0, `owner: allowed (${olga.stderr})`);
  t.match(olga.stdout, /^\d+$/);

  const rows = await waitFor('the audit rows', async () => {
    const r = await admin('audit', 'list', '--json', '--limit', '1000');
    const all = JSON.parse(r.stdout) as { user: string; verb: string; path: string; status: number; cluster?: string | null; clusterId?: string | null; latencyMs: number }[];
    const shells = all.filter((x) => x.verb === 'shell' || x.verb === 'shell-end');
    return shells.some((x) => x.user === 'olga' && x.verb === 'shell-end') ? shells : undefined;
  });
  t.ok(rows.some((x) => x.user === 'rita' && x.verb === 'shell' && x.status === 403), 'the refusal is audited');
  const end = rows.find((x) => x.user === 'olga' && x.verb === 'shell-end');
  t.match(end?.path, new RegExp(`^/v1/nodes/${nodeId}/shell\\?exitCode=0&bytesIn=0&bytesOut=\\d+$`), 'who, node, exit code and bytes');
  t.ok(rows.some((x) => x.user === 'olga' && x.verb === 'shell' && x.status === 101), 'the start is audited');
});

t.test('shell: an unknown node and a node whose agent is offline', async (t) => {
  const unknown = await shellAs('n-nope', '--', 'true');
  t.equal(unknown.exitCode, 1);
  t.match(unknown.stderr, /NODE_NOT_FOUND/);
  await agent.stop();
  const offline = await shellAs(nodeId, '--', 'true');
  t.equal(offline.exitCode, 1);
  t.match(offline.stderr, /NODE_UNAVAILABLE: the node agent of .* is not connected/);
});
