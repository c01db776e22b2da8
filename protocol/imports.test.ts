// protocol/ imports nothing outside itself except zod and a short list of Node built-ins that do
// no I/O (SPEC.md §1). node:http is allowed only in http-over-stream.ts, which parses HTTP over a
// stream it is given and never opens a socket. Tests may import anything.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specifiers } from '../test/import-specifiers.ts';

const root = dirname(fileURLToPath(import.meta.url));
const ALLOWED_EVERYWHERE = new Set(['zod', 'node:buffer', 'node:events', 'node:stream', 'node:stream/promises']);
const ALLOWED_IN: Record<string, readonly string[]> = { 'http-over-stream.ts': ['node:http'], 'manifest-digest.ts': ['node:crypto'], 'release-verify.ts': ['node:crypto'] };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

t.test('imports: the specifier scanner sees every import form', async (t) => {
  t.same(specifiers(`import a from 'x';\nimport { b } from "y";\nexport * from './z.ts';\nimport type { C } from 'w';\nimport 'side';\nconst m = await import('dyn');`), ['x', 'y', './z.ts', 'w', 'side', 'dyn']);
});

t.test('imports: protocol/ imports only itself, zod and I/O-free Node built-ins', async (t) => {
  const files = sources(root);
  t.ok(files.length > 10, `found ${files.length} source files`);
  for (const file of files) {
    const rel = relative(root, file);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        t.ok(target.startsWith(root + '/'), `${rel}: ${spec} stays inside protocol/`);
        continue;
      }
      const ok = ALLOWED_EVERYWHERE.has(spec) || (ALLOWED_IN[rel] ?? []).includes(spec);
      t.ok(ok, `${rel}: import of ${spec} is allowed`);
    }
  }
});
