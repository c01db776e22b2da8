// pino-pretty, loaded on first use (issue 25): only a person at a terminal wants pretty logs, so
// an agent under systemd never evaluates it. Synchronous, because createLogger is. In the
// packaged executable packaging/bundle.ts replaces this file with a lazy require of the bundled copy.
import { createRequire } from 'node:module';
import type pretty from 'pino-pretty';

export function loadPinoPretty(): typeof pretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof pretty;
}
