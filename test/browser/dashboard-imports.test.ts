// The dashboard is loaded only by the server's wiring (server-lite/server.ts, itself imported
// lazily by `drover server`): no agent, CLI or protocol module imports server-lite/ui, so the
// agent's entry point never evaluates it (issue 20).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specifiers } from '../import-specifiers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UI = join(ROOT, 'server-lite', 'ui');

function* tsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

t.test('dashboard imports: only server-lite/server.ts (and tests, benchmarks) import server-lite/ui', async (t) => {
  const importers: string[] = [];
  for (const folder of ['agents', 'cli', 'protocol', 'server-lite', 'packaging']) {
    for (const file of tsFiles(join(ROOT, folder))) {
      if (file.startsWith(UI + '/')) continue;
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(UI + '/')) importers.push(relative(ROOT, file));
      }
    }
  }
  t.same([...new Set(importers)], ['server-lite/server.ts']);
});

t.test('dashboard imports: the dashboard reads no files at run time (its assets are in the code)', async (t) => {
  for (const file of tsFiles(UI)) {
    if (file.endsWith('.test.ts')) continue;
    const specs = specifiers(readFileSync(file, 'utf8'));
    t.notOk(specs.some((s) => s === 'node:fs' || s === 'node:fs/promises' || s === 'fs'), relative(ROOT, file));
  }
});
