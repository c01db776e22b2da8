// Plan probes (issue 15): HTTP GET (with the CA the plan gives, else the system's) or a command,
// each after its initial delay, every period, until it has succeeded successThreshold times in a
// row (pass) or failed failureThreshold times in a row (fail). All probes of a plan run at once;
// the plan's probe step passes when every probe passed and fails at the first probe that failed.
import https from 'node:https';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PlanProbe } from '../../protocol/index.ts';
import { runCommand } from './run-command.ts';

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

function httpGet(url: string, caCert: string | undefined, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(u, { timeout: timeoutMs, ...(caCert && u.protocol === 'https:' ? { ca: caCert } : {}) }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status >= 200 && status < 400, detail: `HTTP ${status}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, detail: err.message }));
  });
}

async function once(p: PlanProbe): Promise<{ ok: boolean; detail: string }> {
  if (p.http) return httpGet(p.http.url, p.http.caCert, p.timeoutMs);
  if (p.exec) {
    const r = await runCommand({ command: p.exec.command, args: p.exec.args, env: {}, timeoutMs: p.timeoutMs });
    return { ok: r.exitCode === 0, detail: r.timedOut ? 'timed out' : `exit code ${r.exitCode}${r.output ? `: ${r.output.trim().slice(-200)}` : ''}` };
  }
  return { ok: false, detail: 'no probe action' };
}

export async function runProbe(p: PlanProbe, signal?: AbortSignal): Promise<ProbeOutcome> {
  await sleep(p.initialDelayMs, undefined, signal ? { signal } : {});
  let successes = 0;
  let failures = 0;
  for (;;) {
    const r = await once(p);
    if (r.ok) {
      successes += 1;
      failures = 0;
      if (successes >= p.successThreshold) return { ok: true, message: `probe ${p.name} passed (${r.detail})` };
    } else {
      failures += 1;
      successes = 0;
      if (failures >= p.failureThreshold) return { ok: false, message: `probe ${p.name} failed ${failures} times in a row (${r.detail})` };
    }
    await sleep(p.periodMs, undefined, signal ? { signal } : {});
  }
}

export async function runProbes(probes: readonly PlanProbe[], signal?: AbortSignal): Promise<ProbeOutcome> {
  const results = await Promise.all(probes.map((p) => runProbe(p, signal)));
  const failed = results.find((r) => !r.ok);
  return failed ?? { ok: true, message: results.map((r) => r.message).join('; ') };
}
