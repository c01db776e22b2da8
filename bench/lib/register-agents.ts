// Registers simulated agents i = from … to-1 against a real server, 32 at a time, honouring the
// server's load shedding (503 OVERLOADED + Retry-After) instead of failing the benchmark.
import { setTimeout as sleep } from 'node:timers/promises';
import { register, type RegisterReply } from '../../agents/common/server-api.ts';
import { transportFor } from '../../agents/common/https-client.ts';
import { AgentError } from '../../agents/common/errors.ts';

export type Role = 'cluster' | 'node' | 'fleet';

export async function registerAgents(serverUrl: string, ca: string, token: string, opts: { from: number; to: number; role: Role; prefix: string; labels?: Record<string, string> }, out: RegisterReply[] = []): Promise<RegisterReply[]> {
  const transport = transportFor(serverUrl, {});
  let next = opts.from;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < opts.to) {
      const i = next++;
      const name = `${opts.prefix}-${i}`;
      for (;;) {
        try {
          out[i] = await register(serverUrl, ca, transport, { token, name, labels: opts.labels ?? {}, roles: [opts.role], hostname: name, facts: { hostname: name, os: 'linux', arch: 'amd64', agentVersion: 'bench' } });
          break;
        } catch (err) {
          if (!(err instanceof AgentError && err.code === 'OVERLOADED')) throw err;
          await sleep(err.retryAfterMs ?? 500);
        }
      }
    }
  }));
  return out;
}
