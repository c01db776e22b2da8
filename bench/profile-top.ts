// Summarises a V8 .cpuprofile (from `node --cpu-prof`) as the functions with the most self time,
// with file and line, so a missed budget can be traced to the code that spends the time.
//   node bench/profile-top.ts FILE.cpuprofile [--top N] [--filter SUBSTRING]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  readonly where: string;
  readonly selfMs: number;
  readonly share: number;
}

/** Self time per function (name + file:line), largest first. Pure. */
export function hotSpots(profile: Profile): HotSpot[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const f = byId.get(id)?.callFrame;
    if (f === undefined) return;
    const file = f.url.replace(/^file:\/\/\/work\/main\//, '').replace(/^file:\/\//, '');
    const key = `${f.functionName || '(anonymous)'} ${file === '' ? '' : `${file}:${f.lineNumber + 1}`}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()]
    .map(([where, selfMs]) => ({ where, selfMs, share: total > 0 ? selfMs / total : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, filter: { type: 'string' } },
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-top.ts FILE.cpuprofile [--top N] [--filter SUBSTRING]\n');
    process.exit(2);
  }
  const spots = hotSpots(JSON.parse(readFileSync(file, 'utf8')) as Profile).filter(
    (s) => values.filter === undefined || s.where.includes(values.filter),
  );
  for (const s of spots.slice(0, Number(values.top))) {
    process.stdout.write(`${s.selfMs.toFixed(1).padStart(9)} ms ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.where}\n`);
  }
}
