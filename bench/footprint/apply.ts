// bench/footprint.ts --apply: the default install (all roles in one process) applying a bundle to
// a real kube-apiserver (test/k8s harness), its memory sampled every 50 ms from /proc while the
// server hands it the bundle and it applies it, until `drover bundle status` reports every object
// ready. Two shapes from issue 25: 500 small objects, and one bundle of about 21 MB.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readMemory, toMiB } from './proc-memory.ts';

export interface ApplyFigure {
  bundle: string;
  objects: number;
  bytes: number;
  /** `bundle apply` → every object ready, ms. */
  applyMs: number;
  /** Highest RSS sampled during the apply, and VmHWM (since the process started). */
  peakRssMiB: number;
  hwmMiB: number;
  /** RSS once idle again after the apply. */
  afterMiB: number;
}

/** 500 ConfigMaps of ~200 bytes of data each. */
export function manyObjects(dir: string, count = 500, namespace = 'default'): { objects: number; bytes: number } {
  fs.mkdirSync(dir, { recursive: true });
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small-${i}\n  namespace: ${namespace}\ndata:\n  value: "${'x'.repeat(200)}"\n`);
  }
  const text = docs.join('---\n');
  fs.writeFileSync(path.join(dir, 'objects.yaml'), text);
  return { objects: count, bytes: Buffer.byteLength(text) };
}

/** About 21 MB: 22 ConfigMaps of ~0.95 MB each (one object stays under etcd's 1.5 MiB request limit). */
export function bigBundle(dir: string, count = 22): { objects: number; bytes: number } {
  fs.mkdirSync(dir, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    // Different content per object (gzip and dedup must not make it cheap).
    const data = Buffer.alloc(712 * 1024, i).toString('base64').slice(0, 950_000).replace(/A/g, String.fromCharCode(97 + (i % 26)));
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big-${i}\n  namespace: default\ndata:\n  blob: "${data}"\n`;
    fs.writeFileSync(path.join(dir, `big-${i}.yaml`), text);
    bytes += Buffer.byteLength(text);
  }
  return { objects: count, bytes };
}

interface Summary {
  ready: number;
  desiredReady: number;
}

export async function applyAndSample(opts: {
  adminExe: string;
  serverDataDir: string;
  env: NodeJS.ProcessEnv;
  agentPid: number;
  dir: string;
  name: string;
  shape: { objects: number; bytes: number };
  idleAfterMs: number;
  /** Label selector of the one cluster under test (others registered by the run stay out). */
  target: string;
}): Promise<ApplyFigure> {
  const admin = (args: string[]): string => execFileSync(opts.adminExe, [...args, '--data-dir', opts.serverDataDir], { env: opts.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, readMemory(opts.agentPid).rss);
    } catch {
      // the process is gone; the wait below reports it
    }
  }, 50);
  const t0 = performance.now();
  admin(['bundle', 'apply', opts.dir, '--name', opts.name, '--target', opts.target]);
  let applyMs = NaN;
  // Bounded: 20 minutes of polls (a loaded 2-core machine), never a wall-clock assertion.
  for (let i = 0; i < 2400; i++) {
    const s = JSON.parse(admin(['bundle', 'status', opts.name, '--json'])) as { summary: Summary };
    if (s.summary.desiredReady > 0 && s.summary.ready === s.summary.desiredReady) {
      applyMs = performance.now() - t0;
      break;
    }
    await sleep(500);
  }
  clearInterval(sampler);
  if (!Number.isFinite(applyMs)) throw new Error(`bundle ${opts.name} never became ready`);
  const hwm = readMemory(opts.agentPid).hwm;
  await sleep(opts.idleAfterMs);
  return {
    bundle: opts.name,
    objects: opts.shape.objects,
    bytes: opts.shape.bytes,
    applyMs,
    peakRssMiB: toMiB(peak),
    hwmMiB: toMiB(hwm),
    afterMiB: toMiB(readMemory(opts.agentPid).rss),
  };
}
