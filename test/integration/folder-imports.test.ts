// The import rules of ARCHITECTURE.md §1, for every folder: protocol/ imports nothing else in the
// repo (its own test checks the Node built-ins too), agents/common/ only protocol/, each agent role
// protocol/ and agents/common/, server-lite/ only protocol/; cli/, test/ and bench/ anything.
// Tests (*.test.ts) may import anything. Production code also holds no fakes: those live in test/.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specifiers } from '../import-specifiers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const RULES: { folder: string; may: string[] }[] = [
  { folder: 'protocol', may: ['protocol'] },
  { folder: 'agents/common', may: ['protocol', 'agents/common'] },
  { folder: 'agents/cluster', may: ['protocol', 'agents/common', 'agents/cluster'] },
  { folder: 'agents/node', may: ['protocol', 'agents/common', 'agents/node'] },
  { folder: 'agents/fleet', may: ['protocol', 'agents/common', 'agents/fleet'] },
  { folder: 'agents/upgrade', may: ['protocol', 'agents/common', 'agents/upgrade'] },
  { folder: 'server-lite', may: ['protocol', 'server-lite'] },
];

function sources(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

const inside = (file: string, folder: string): boolean => {
  const rel = relative(join(ROOT, folder), file);
  return !rel.startsWith('..') && !rel.startsWith(sep);
};

for (const rule of RULES) {
  t.test(`imports: ${rule.folder}/ imports only ${rule.may.join(', ')}`, async (t) => {
    const files = sources(join(ROOT, rule.folder));
    if (rule.folder !== 'agents/node') t.ok(files.length > 0, `${files.length} source files`);
    for (const file of files) {
      const rel = relative(ROOT, file);
      t.notMatch(rel, /(^|\/)fake-[^/]*\.ts$/, `${rel}: fakes belong in test/, not in production code`);
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = resolve(dirname(file), spec);
        const ok = rule.may.some((f) => inside(target, f));
        if (!ok) t.fail(`${rel} imports ${relative(ROOT, target)}`);
      }
    }
  });
}
