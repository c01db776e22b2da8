// Lists every path in a root (files, links, directories) so a test can show an install or
// uninstall changed exactly what it should. Kernel and scratch trees are left out.
import fs from 'node:fs';
import path from 'node:path';

const SKIP = new Set(['proc', 'sys', 'dev', 'tmp', 'run', 'var/tmp']);

export function snapshot(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${entry.name}` : entry.name;
      if (SKIP.has(p)) continue;
      out.add(p);
      if (entry.isDirectory()) walk(p);
    }
  };
  walk('');
  return out;
}

export function diffSnapshots(before: Set<string>, after: Set<string>): { added: string[]; removed: string[] } {
  return {
    added: [...after].filter((p) => !before.has(p)).sort(),
    removed: [...before].filter((p) => !after.has(p)).sort(),
  };
}
