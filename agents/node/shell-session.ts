// Serves one `drover-shell` stream (issue 15; docs/shell.md): starts the command (in a
// pseudo-terminal through util-linux `script` when asked, decision 0920), moves stdin, output,
// window size and signals between the stream's frames (protocol shell-frames) and the process, and
// ends with an `exit` frame carrying the exit status. The server has already decided who may open
// the stream; the agent trusts its metadata only as far as parseShellMetadata checks it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { SHELL_FRAME, ShellFrameDecoder, encodeShellData, encodeShellFrame, exitFrame, readResize, type TunnelStream } from '../../protocol/index.ts';
import { exitStatus, parseShellMetadata, spawnFor, type ShellRequest } from './shell-command.ts';

/** Signals a client may send (no TTY): the ones a person sends from a keyboard or `kill`. */
const SIGNALS = new Set(['INT', 'TERM', 'HUP', 'QUIT', 'KILL']);
/** After the client went away: SIGHUP, then SIGKILL if the command is still there after this. */
const KILL_GRACE_MS = 5_000;

/** The environment of a shell: the agent's own (its credentials' paths, proxy settings) is not passed on. */
export function shellEnv(req: ShellRequest, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const user = os.userInfo();
  return {
    PATH: base.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: user.homedir,
    USER: user.username,
    LOGNAME: user.username,
    SHELL: '/bin/sh',
    TERM: req.term,
    LANG: base.LANG ?? 'C.UTF-8',
  };
}

/** Serves the stream; returns a function that hangs the command up (the agent is stopping). */
export function serveShell(stream: TunnelStream, log: Logger): () => void {
  stream.on('error', () => {});
  const req = parseShellMetadata(stream.metadata);
  if (typeof req === 'string') {
    stream.end(encodeShellFrame(SHELL_FRAME.error, Buffer.from(`bad shell request: ${req}`)));
    return () => {};
  }
  const who = stream.metadata['drover-user'] ?? 'unknown';
  const s = spawnFor(req, existsSync('/bin/bash'));
  log.info({ user: who, command: req.command.slice(0, 16), tty: req.tty }, 'remote shell starting');
  let child: ChildProcess;
  try {
    child = spawn(s.file, s.args, {
      stdio: req.tty ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      // Its own process group: signals and the hang-up on disconnect reach the whole command.
      detached: true,
      env: shellEnv(req),
      cwd: os.userInfo().homedir,
    });
  } catch (err) {
    stream.end(encodeShellFrame(SHELL_FRAME.error, Buffer.from(`cannot start ${s.file}: ${(err as Error).message}`)));
    return () => {};
  }
  let finished = false;
  let ttyName: string | undefined;
  let wantSize: { rows: number; cols: number } | undefined;
  let resizing = false;

  const finish = (frame: Buffer, why: string): void => {
    if (finished) return;
    finished = true;
    log.info({ user: who, why }, 'remote shell ended');
    stream.end(frame);
  };

  child.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && req.tty) {
      finish(encodeShellFrame(SHELL_FRAME.error, Buffer.from('this node has no util-linux `script` for a terminal; install util-linux, or run drover shell with stdin not a terminal')), 'no script');
    } else if (err.code === 'ENOENT') {
      stream.write(encodeShellFrame(SHELL_FRAME.stderr, Buffer.from(`drover shell: ${s.file}: command not found\n`)));
      finish(exitFrame(127), 'command not found');
    } else finish(encodeShellFrame(SHELL_FRAME.error, Buffer.from(`cannot start ${s.file}: ${err.message}`)), 'spawn failed');
  });

  // Output → frames, pausing the process's pipe while the stream is backed up.
  const forward = (from: Readable | null, type: typeof SHELL_FRAME.stdout | typeof SHELL_FRAME.stderr): void => {
    from?.on('data', (chunk: Buffer) => {
      if (finished) return;
      let ok = true;
      for (const f of encodeShellData(type, chunk)) ok = stream.write(f) && ok;
      if (!ok) {
        from.pause();
        stream.once('drain', () => from.resume());
      }
    });
  };
  // In a TTY everything the command writes comes through the terminal (stdout); script's own
  // complaints come on its stderr.
  forward(child.stdout, SHELL_FRAME.stdout);
  forward(child.stderr, SHELL_FRAME.stderr);

  const applySize = (): void => {
    if (resizing || !ttyName || !wantSize) return;
    const { rows, cols } = wantSize;
    wantSize = undefined;
    resizing = true;
    // The kernel sends SIGWINCH to the terminal's foreground process group (stty -F: TIOCSWINSZ).
    execFile('stty', ['-F', ttyName, 'rows', String(rows), 'cols', String(cols)], { timeout: 5_000 }, (err) => {
      resizing = false;
      if (err) log.debug({ err: err.message }, 'resize failed');
      applySize();
    });
  };
  const fd3 = child.stdio[3] as Readable | undefined;
  fd3?.on('data', (b: Buffer) => {
    const name = b.toString('utf8').split('\n')[0]?.trim();
    if (name && /^\/dev\/pts\/\d+$/.test(name)) {
      ttyName = name;
      applySize();
    }
  });
  fd3?.on('error', () => {});

  const stdin = child.stdin as Writable | null;
  stdin?.on('error', () => {});
  const decoder = new ShellFrameDecoder();
  stream.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      finish(encodeShellFrame(SHELL_FRAME.error, Buffer.from((err as Error).message)), 'bad frame');
      hangUp();
      return;
    }
    for (const f of frames) {
      if (f.type === SHELL_FRAME.stdin) {
        if (stdin && !stdin.writableEnded && !stdin.write(f.payload)) {
          stream.pause();
          stdin.once('drain', () => stream.resume());
        }
      } else if (f.type === SHELL_FRAME.eof) stdin?.end();
      else if (f.type === SHELL_FRAME.resize) {
        const size = readResize(f.payload);
        if (size && size.rows > 0 && size.cols > 0) {
          wantSize = size;
          applySize();
        }
      } else if (f.type === SHELL_FRAME.signal) {
        const name = f.payload.toString('utf8');
        if (SIGNALS.has(name) && child.pid !== undefined) {
          try {
            process.kill(-child.pid, `SIG${name}` as NodeJS.Signals);
          } catch {
            // Already gone.
          }
        }
      }
    }
  });

  let killTimer: NodeJS.Timeout | undefined;
  const hangUp = (): void => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGHUP');
    } catch {
      return;
    }
    killTimer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }, KILL_GRACE_MS);
    killTimer.unref();
  };
  // The client went away (or the tunnel dropped) before the command ended.
  stream.on('close', () => {
    if (!finished) {
      finished = true;
      log.info({ user: who }, 'remote shell client gone; hanging up');
      hangUp();
    }
  });
  child.on('close', (code, signal) => {
    clearTimeout(killTimer);
    finish(exitFrame(exitStatus(code, signal, (sig) => os.constants.signals[sig] ?? 0)), `exit ${code ?? signal}`);
  });
  return hangUp;
}
