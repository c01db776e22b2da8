// pino for every agent process: JSON lines by default (journald, log shippers), pretty when
// stderr is a terminal. Secrets never go into fields: credentials and tokens are redacted by path
// as a second line of defence behind not logging them in the first place.
import pino, { type Logger } from 'pino';
import { loadPinoPretty } from './pino-pretty-loader.ts';

const REDACT = ['credential', 'token', 'secret', '*.credential', '*.token', '*.secret', 'headers.authorization'];

export function createLogger(opts: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const level = opts.level ?? process.env.DROVER_LOG_LEVEL ?? 'info';
  const usePretty = opts.pretty ?? process.stderr.isTTY === true;
  const base = { level, name: opts.name ?? 'drover-agent', redact: { paths: REDACT, censor: '[redacted]' } };
  if (usePretty) return pino(base, loadPinoPretty()({ destination: 2, colorize: true, sync: true }));
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** For tests and library callers that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
