// A V8 CPU profile of another Node process over a window of the caller's choosing, through the
// DevTools protocol of a process started with `--inspect=127.0.0.1:0` (it prints
// "Debugger listening on ws://…" on stderr). `--cpu-prof` writes only at exit and covers the
// whole life of the process; this covers just the window (e.g. one idle phase of bench/tunnels.ts).
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';

/** The inspector's WebSocket URL in a process's output, if it printed one. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/** A profile being taken; `stop` writes the .cpuprofile to `file` and disconnects. */
export interface RunningProfile {
  stop(file: string): Promise<void>;
}

/** Starts sampling the process behind `url` (1 ms interval). */
export async function startProfile(url: string): Promise<RunningProfile> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}): Promise<unknown> =>
    new Promise((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 1000 });
  await call('Profiler.start');
  return {
    async stop(file: string): Promise<void> {
      try {
        const result = (await call('Profiler.stop')) as { profile: unknown };
        writeFileSync(file, JSON.stringify(result.profile));
        await call('Profiler.disable');
      } finally {
        ws.close();
      }
    },
  };
}

/** Samples the process behind `url` for `ms` and writes the .cpuprofile to `file`. */
export async function profileWindow(url: string, ms: number, file: string): Promise<void> {
  const p = await startProfile(url);
  await sleep(ms);
  await p.stop(file);
}
