// `drover shell NODE [-- COMMAND…]` (issue 15; docs/shell.md): a shell, or one command, on a node
// through its node agent's tunnel. With a terminal on stdin and stdout it runs in a pseudo-terminal
// on the node (this terminal raw, window size kept in step, Ctrl-C reaching the remote command as
// it would locally); otherwise plain pipes, stdout and stderr apart, Ctrl-C sent as SIGINT. The
// remote command's exit status becomes drover's; the server's refusals use the usual exit codes.
import https from 'node:https';
import { Option, type Command } from 'commander';
import { SHELL_FRAME, ShellFrameDecoder, encodeShellData, encodeShellFrame, readExit, resizeFrame } from '../../protocol/index.ts';
import { addAdminOptions, CliError, resolveConnection, withExitCodes, type AdminConnection, type AdminOptions } from '../admin-client.ts';
import { EXIT } from '../exit-codes.ts';

const SHELL_UPGRADE = 'drover-shell';

interface ShellOptions extends AdminOptions {
  tty?: boolean;
}

/** A terminal for the remote side: forced with -t, refused with -T, else when both ends are terminals. */
export function wantTty(flag: boolean | undefined, stdinTty: boolean, stdoutTty: boolean): boolean {
  return flag ?? (stdinTty && stdoutTty);
}

export function shellQuery(command: string[], tty: boolean, rows: number, cols: number, term: string): string {
  const q = new URLSearchParams({ command: JSON.stringify(command), tty: tty ? '1' : '0', rows: String(rows), cols: String(cols), term });
  return q.toString();
}

function open(conn: AdminConnection, node: string, query: string): Promise<import('node:stream').Duplex> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${conn.url}/v1/nodes/${encodeURIComponent(node)}/shell?${query}`, {
      ...(conn.ca === undefined ? {} : { ca: conn.ca }),
      headers: { authorization: `Bearer ${conn.token}`, connection: 'Upgrade', upgrade: SHELL_UPGRADE },
    });
    req.on('upgrade', (_res, socket, head) => {
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c.slice(0, 8192)));
      res.on('end', () => {
        let what = `HTTP ${res.statusCode ?? 0}`;
        try {
          const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
          if (e) what = `${e.code ?? 'ERROR'}: ${e.message ?? ''}`;
        } catch {
          // not JSON
        }
        const code = res.statusCode === 401 || res.statusCode === 403 ? EXIT.CREDENTIAL_REJECTED : res.statusCode === 400 ? EXIT.USAGE : EXIT.FAILURE;
        reject(new CliError(code, `server refused the shell on ${node}: ${what}`));
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(new CliError(EXIT.SERVER_UNREACHABLE, `cannot reach ${conn.url}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '))));
    req.end();
  });
}

/** Runs the session; resolves with the remote exit status. */
export async function runShell(conn: AdminConnection, node: string, command: string[], tty: boolean): Promise<number> {
  const out = process.stdout;
  const rows = tty ? out.rows ?? 24 : 0;
  const cols = tty ? out.columns ?? 80 : 0;
  const socket = await open(conn, node, shellQuery(command, tty, rows, cols, process.env.TERM ?? 'xterm'));
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const onResize = (): void => void socket.write(resizeFrame(out.rows ?? 24, out.columns ?? 80));
  const onSigint = (): void => void socket.write(encodeShellFrame(SHELL_FRAME.signal, Buffer.from('INT')));
  if (tty) out.on('resize', onResize);
  else process.on('SIGINT', onSigint);
  const onStdin = (chunk: Buffer): void => {
    for (const f of encodeShellData(SHELL_FRAME.stdin, chunk)) socket.write(f);
  };
  const onStdinEnd = (): void => void socket.write(encodeShellFrame(SHELL_FRAME.eof));
  stdin.on('data', onStdin);
  stdin.on('end', onStdinEnd);
  try {
    return await new Promise<number>((resolve, reject) => {
      const decoder = new ShellFrameDecoder();
      let status: number | undefined;
      let failure: string | undefined;
      socket.on('data', (chunk: Buffer) => {
        try {
          for (const f of decoder.push(chunk)) {
            if (f.type === SHELL_FRAME.stdout) out.write(f.payload);
            else if (f.type === SHELL_FRAME.stderr) process.stderr.write(f.payload);
            else if (f.type === SHELL_FRAME.exit) status = readExit(f.payload);
            else if (f.type === SHELL_FRAME.error) failure = f.payload.toString('utf8');
          }
        } catch (err) {
          failure = `bad answer from the server: ${(err as Error).message}`;
          socket.destroy();
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        if (failure !== undefined) reject(new CliError(EXIT.FAILURE, `shell on ${node}: ${failure}`));
        else if (status === undefined) reject(new CliError(EXIT.FAILURE, `the shell on ${node} ended without an exit status (the node agent or the server went away)`));
        else resolve(status);
      });
    });
  } finally {
    stdin.off('data', onStdin);
    stdin.off('end', onStdinEnd);
    stdin.pause();
    if (raw) stdin.setRawMode(false);
    out.off('resize', onResize);
    process.off('SIGINT', onSigint);
  }
}

export function registerShell(program: Command): void {
  addAdminOptions(
    program
      .command('shell')
      .description("a shell, or one command, on a node through its node agent (global admins and the owners of the node's cluster)")
      .argument('<node>', 'node id or name (drover node list)')
      .argument('[command...]', 'command and arguments to run instead of the login shell (after --)')
      .addOption(new Option('-t, --tty', 'run in a pseudo-terminal even when stdin or stdout is not a terminal'))
      .addOption(new Option('-T, --no-tty', 'never allocate a pseudo-terminal (plain pipes, stdout and stderr apart)'))
      .addHelpText(
        'after',
        '\nThe exit status is the remote command\'s. Refusals: 4 not allowed (e.g. a read-only user), 1 node unknown or its agent offline, 3 server unreachable.\n\nExamples:\n  drover shell edge-01\n  drover shell n-7x2k -- uname -a\n  echo ls | drover shell edge-01 -- sh',
      ),
  ).action(
    withExitCodes(async (node: string, command: string[], opts: ShellOptions) => {
      if (node.trim() === '') throw new CliError(EXIT.USAGE, 'give the node id or name (drover node list)');
      const conn = resolveConnection(opts);
      const tty = wantTty(opts.tty, process.stdin.isTTY === true, process.stdout.isTTY === true);
      const status = await runShell(conn, node, command, tty);
      process.exitCode = status < 0 || status > 255 ? 1 : status;
    }),
  );
}
