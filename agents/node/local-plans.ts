// The local plan directory (`<data-dir>/plans/`, ARCHITECTURE.md §5): plans brought on removable
// media at air-gapped sites. Each `*.yaml`, `*.yml` or `*.json` file there is parsed and checked
// with the same schema the server uses (protocol/node-plan.ts); a valid one is run like a
// delivered one (name: its metadata.name, else the file name), once per checksum. An invalid one
// is refused: its problems are written next to it (`FILE.rejected`) and reported to the server.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { loadYaml } from '../common/yaml-loader.ts';
import { checkPlan, planChecksum, PlanInvalid, type Plan } from '../../protocol/index.ts';

export type LocalPlan =
  | { file: string; ok: true; name: string; checksum: string; plan: Plan }
  | { file: string; ok: false; name: string; checksum: string; problems: string[] };

const PLAN_FILE = /\.(ya?ml|json)$/;
const MAX_FILE_BYTES = 8 * 1024 * 1024;

export function readLocalPlans(dir: string): LocalPlan[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => PLAN_FILE.test(n) && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.flatMap((n): LocalPlan[] => {
    const file = path.join(dir, n);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) return [];
    const fallback = n.replace(PLAN_FILE, '');
    if (st.size > MAX_FILE_BYTES) return [{ file, ok: false, name: fallback, checksum: '', problems: [`larger than ${MAX_FILE_BYTES} bytes`] }];
    const text = fs.readFileSync(file, 'utf8');
    const raw = createHash('sha256').update(text).digest('hex');
    try {
      const doc: unknown = loadYaml().parse(text);
      const { name, plan } = checkPlan(doc);
      return [{ file, ok: true, name: name ?? fallback, checksum: planChecksum(plan), plan }];
    } catch (err) {
      const problems = err instanceof PlanInvalid ? err.problems : [`not YAML: ${(err as Error).message}`];
      return [{ file, ok: false, name: fallback, checksum: raw, problems }];
    }
  });
}


/** Writes the refusal next to the file (once); returns true when it was new. */
export function markRejected(p: Extract<LocalPlan, { ok: false }>): boolean {
  const target = `${p.file}.rejected`;
  const body = `refused (sha256 ${p.checksum}):\n${p.problems.map((x) => `- ${x}`).join('\n')}\n`;
  if (fs.readFileSync(target, { encoding: 'utf8', flag: 'a+' }) === body) return false;
  fs.writeFileSync(target, body);
  return true;
}
