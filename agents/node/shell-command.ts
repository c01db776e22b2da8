// How a remote shell's command is started (pure; decision 0920). With a TTY, util-linux `script`
// gives the command a pseudo-terminal: `script -q -e -c WRAPPER /dev/null`, where WRAPPER (run by
// /bin/sh) sets the initial window size, reports the terminal's name on fd 3 (the agent resizes
// it later with `stty -F`), closes fd 3 and execs the command. Without a TTY the argv runs directly.

/** POSIX shell single-quoting: safe for any byte string. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ShellRequest {
  /** argv; empty: the login shell. */
  command: string[];
  tty: boolean;
  rows: number;
  cols: number;
  term: string;
}

export interface Spawn {
  file: string;
  args: string[];
}

/** The login shell when no command is given: bash if the node has it, else sh. */
export function loginShell(hasBash: boolean): string[] {
  return hasBash ? ['/bin/bash', '-l'] : ['/bin/sh', '-l'];
}

export function spawnFor(req: ShellRequest, hasBash: boolean): Spawn {
  const argv = req.command.length > 0 ? req.command : loginShell(hasBash);
  if (!req.tty) {
    const [file = '/bin/sh', ...args] = argv;
    return { file, args };
  }
  const size = req.rows > 0 && req.cols > 0 ? `stty rows ${req.rows} cols ${req.cols} 2>/dev/null; ` : '';
  const wrapper = `${size}tty >&3; exec 3>&-; exec ${argv.map(shellQuote).join(' ')}`;
  return { file: 'script', args: ['-q', '-e', '-c', wrapper, '/dev/null'] };
}

/** An exit status as one number: the code, or 128 + the signal's number (as shells report it). */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null, signalNumber: (s: NodeJS.Signals) => number): number {
  if (code !== null) return code;
  return signal === null ? 1 : 128 + signalNumber(signal);
}

/** Parses the stream's OPEN metadata into a request; a message saying what is wrong otherwise. */
export function parseShellMetadata(md: Readonly<Record<string, string>>): ShellRequest | string {
  let command: unknown = [];
  try {
    command = JSON.parse(md.command ?? '[]');
  } catch {
    return 'command is not JSON';
  }
  if (!Array.isArray(command) || !command.every((a) => typeof a === 'string') || command.length > 1024) return 'command must be an array of at most 1024 strings';
  if (command.length > 0 && command[0] === '') return 'the command name is empty';
  const num = (v: string | undefined): number => {
    const n = Number(v ?? '0');
    return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : 0;
  };
  const term = md.term ?? 'xterm';
  return {
    command: command as string[],
    tty: md.tty === '1',
    rows: num(md.rows),
    cols: num(md.cols),
    term: /^[A-Za-z0-9._+-]{1,64}$/.test(term) ? term : 'xterm',
  };
}
