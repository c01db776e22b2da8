// The node role's access targets over a real protocol session pair (in memory) and real processes:
// the shell runs commands (pipes and a PTY from util-linux script), a resize reaches the PTY, a
// signal reaches the process group, unknown targets are refused, and without a kubeconfig the
// fallback target says so.
import t, { type Test } from 'tap';
import pino from 'pino';
import { once } from 'node:events';
import { SHELL_FRAME, ShellFrameDecoder, TunnelError, bothReady, encodeShellFrame, readExit, resizeFrame, sessionPair, type TunnelStream } from '../../protocol/index.ts';
import { nodeAccessStreams } from './shell-role.ts';

const stops: (() => Promise<void>)[] = [];

async function pair(t: Test) {
  const { client, server } = sessionPair();
  client.on('stream', nodeAccessStreams({ logger: pino({ level: 'silent' }), onStop: (fn) => void stops.push(fn) }));
  await bothReady(client, server);
  t.teardown(() => {
    client.close('NORMAL', 'done');
    server.close('NORMAL', 'done');
  });
  return server;
}

/** Collects frames until the exit (or error) frame; returns output and the status. */
function collect(stream: TunnelStream) {
  const d = new ShellFrameDecoder();
  let out = '';
  let err = '';
  const done = new Promise<{ status: number | undefined; error: string | undefined }>((resolve) => {
    let status: number | undefined;
    let error: string | undefined;
    stream.on('data', (c: Buffer) => {
      for (const f of d.push(c)) {
        if (f.type === SHELL_FRAME.stdout) out += f.payload.toString();
        else if (f.type === SHELL_FRAME.stderr) err += f.payload.toString();
        else if (f.type === SHELL_FRAME.exit) status = readExit(f.payload);
        else if (f.type === SHELL_FRAME.error) error = f.payload.toString();
      }
    });
    stream.on('end', () => resolve({ status, error }));
    stream.on('error', () => resolve({ status, error }));
  });
  return { out: () => out, err: () => err, done };
}

t.test('node access: a command without a TTY, stdin to EOF, exit status', async (t) => {
  const server = await pair(t);
  const s = server.openStream('drover-shell', { command: JSON.stringify(['sh', '-c', 'cat; echo oops >&2; exit 9']), tty: '0' });
  const c = collect(s);
  s.write(encodeShellFrame(SHELL_FRAME.stdin, Buffer.from('piped\n')));
  s.write(encodeShellFrame(SHELL_FRAME.eof));
  const r = await c.done;
  t.equal(r.status, 9);
  t.equal(c.out(), 'piped\n');
  t.equal(c.err(), 'oops\n');
});

t.test('node access: a PTY of the asked size, resized while running', async (t) => {
  const server = await pair(t);
  const s = server.openStream('drover-shell', { command: JSON.stringify(['sh', '-c', 'stty size; read x; stty size; exit 2']), tty: '1', rows: '20', cols: '60' });
  const c = collect(s);
  await t.resolves(new Promise<void>((resolve) => {
    const check = (): void => (/20 60/.test(c.out()) ? resolve() : void setTimeout(check, 50));
    check();
  }));
  s.write(resizeFrame(30, 100));
  // The resize is applied by a short stty process; the command goes on when it reads a line.
  await new Promise((r) => setTimeout(r, 500));
  s.write(encodeShellFrame(SHELL_FRAME.stdin, Buffer.from('go\r')));
  const r = await c.done;
  t.equal(r.status, 2);
  t.match(c.out(), /20 60[\s\S]*30 100/);
});

t.test('node access: a signal frame reaches the command\'s process group', async (t) => {
  const server = await pair(t);
  const s = server.openStream('drover-shell', { command: JSON.stringify(['sh', '-c', 'trap "exit 42" TERM; echo up; while :; do sleep 0.1; done']), tty: '0' });
  const c = collect(s);
  await t.resolves(new Promise<void>((resolve) => {
    const check = (): void => (c.out().includes('up') ? resolve() : void setTimeout(check, 50));
    check();
  }));
  s.write(encodeShellFrame(SHELL_FRAME.signal, Buffer.from('TERM')));
  t.equal((await c.done).status, 42);
});

t.test('node access: bad metadata and unknown targets are refused; no kubeconfig, no fallback', async (t) => {
  const server = await pair(t);
  const bad = collect(server.openStream('drover-shell', { command: '{' }));
  t.match((await bad.done).error, /bad shell request: command is not JSON/);
  for (const [target, code] of [['drover-nothing', 'STREAM_REFUSED'], ['http:kube-apiserver', 'TARGET_UNREACHABLE']] as const) {
    const s = server.openStream(target, {});
    s.resume();
    const [err] = (await once(s, 'error')) as [TunnelError];
    t.equal(err.code, code, target);
  }
});

t.test('node access: stopping the agent hangs up a running command instead of orphaning it', async (t) => {
  const server = await pair(t);
  const s = server.openStream('drover-shell', { command: JSON.stringify(['sh', '-c', 'trap "exit 5" HUP; echo up; while :; do sleep 0.1; done']), tty: '0' });
  const c = collect(s);
  await t.resolves(new Promise<void>((resolve) => {
    const check = (): void => (c.out().includes('up') ? resolve() : void setTimeout(check, 50));
    check();
  }));
  await Promise.all(stops.map((fn) => fn()));
  t.equal((await c.done).status, 5, 'SIGHUP reached the command');
});
