// Readiness for systemd (issue 16, decision 1131): the agent units are `Type=notify` with
// `NotifyAccess=all`, so the agent tells systemd it started by running `systemd-notify` (Node
// cannot send the unix datagram itself). Without NOTIFY_SOCKET (not started by a notify unit)
// this does nothing. Failures are logged, never fatal: readiness is an outside watchdog's input.
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export type Notify = (assignments: string[]) => void;

export function systemdNotify(log: Logger, env: NodeJS.ProcessEnv = process.env): Notify {
  if (!env['NOTIFY_SOCKET']) return () => {};
  return (assignments) => {
    execFile('systemd-notify', assignments, { env, timeout: 10_000 }, (err) => {
      if (err) log.warn({ err: err.message, assignments }, 'systemd-notify failed');
    });
  };
}
