// Step 1 of `npm run package`: esbuild turns the ESM/TypeScript CLI into one CommonJS file,
// because a Node 24 SEA main script must be CommonJS and may only require() built-in modules.
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';

export interface BundleResult {
  file: string;
  bytes: number;
  warnings: string[];
}

/**
 * Inside the executable better-sqlite3 cannot require() its prebuilt addon; this plugin swaps
 * its loader for one that asks packaging/runtime/native-sqlite.ts, so store code that never
 * passes `nativeBinding` still works in the SEA, and an explicit `nativeBinding` still wins.
 */
function sqliteBindingPlugin(repoRoot: string): Plugin {
  const loader = path.join(repoRoot, 'packaging', 'runtime', 'native-sqlite.ts');
  return {
    name: 'drover-sqlite-binding',
    setup(b) {
      b.onLoad({ filter: /better-sqlite3[\\/]lib[\\/]binding\.js$/ }, () => ({
        loader: 'js',
        resolveDir: path.dirname(loader),
        contents: [
          `'use strict';`,
          `const { nativeSqliteBinding } = require(${JSON.stringify(loader)});`,
          `function getBinding(nativeBinding) {`,
          `  if (typeof nativeBinding === 'object' && nativeBinding !== null) return nativeBinding;`,
          `  if (typeof nativeBinding === 'string') {`,
          `    const m = { exports: {} }; process.dlopen(m, require('node:path').resolve(nativeBinding)); return m.exports;`,
          `  }`,
          `  const addon = nativeSqliteBinding();`,
          `  if (!addon) throw new Error('better-sqlite3: no native addon (not running as the drover executable)');`,
          `  return addon;`,
          `}`,
          `exports.getBinding = getBinding;`,
          `exports.getPrebuildPath = () => null;`,
        ].join('\n'),
      }));
    },
  };
}

/** Bundles `cli/main.ts` (and everything it imports) into `outFile`. */
export async function bundleCli(repoRoot: string, outFile: string): Promise<BundleResult> {
  try {
    const result = await build({
      absWorkingDir: repoRoot,
      entryPoints: [path.join(repoRoot, 'cli', 'main.ts')],
      outfile: outFile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      minifyWhitespace: true,
      minifySyntax: true,
      keepNames: true,
      legalComments: 'none',
      logLevel: 'silent',
      // Optional accelerators of ws that are not installed; ws falls back to JavaScript.
      external: ['bufferutil', 'utf-8-validate'],
      // ESM code may read import.meta; in CommonJS it is empty, so map it to the CJS equivalents.
      define: {
        'import.meta.url': '__drover_import_meta_url',
        'import.meta.dirname': '__dirname',
        'import.meta.filename': '__filename',
      },
      banner: {
        js: `var __drover_import_meta_url = require("node:url").pathToFileURL(typeof __filename === "string" ? __filename : process.execPath).href;`,
      },
      plugins: [sqliteBindingPlugin(repoRoot)],
      metafile: true,
    });
    const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    const warnings = result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`);
    return { file: outFile, bytes, warnings };
  } catch (cause) {
    throw new PackagingError(PACKAGING_ERRORS.BUILD_TOOL_FAILED, `esbuild could not bundle cli/main.ts: ${String(cause)}`, {
      cause,
    });
  }
}
