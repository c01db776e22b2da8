// Evaluates a CommonJS bundle that the single executable carries as a SEA asset (issue 25). The
// main script holds only what `drover agent …` needs; the full CLI and @kubernetes/client-node
// travel as assets and are compiled only when a command actually reaches them, so a device's
// agent never holds their source on its heap. Only used inside the executable: packaging/bundle.ts
// routes the imports of those modules here; outside a SEA they are ordinary imports.
import path from 'node:path';
import * as nodeSea from 'node:sea';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { PackagingError, PACKAGING_ERRORS } from '../errors.ts';

interface CjsModule {
  exports: unknown;
}

const loaded = new Map<string, CjsModule>();

/** The SEA main's own `require` (built-in modules only), handed to the asset as its `require`. */
declare const require: NodeJS.Require;

/** Compiles and runs asset `name` once per process (like require()) and returns its exports. */
export function requireAsset(name: string, sea: Pick<typeof nodeSea, 'isSea' | 'getRawAsset'> = nodeSea): unknown {
  const hit = loaded.get(name);
  if (hit) return hit.exports;
  if (!sea.isSea()) throw new PackagingError(PACKAGING_ERRORS.BUNDLED_MODULE_MISSING, `${name}: bundled modules exist only inside the drover executable`);
  let source: string;
  try {
    // Stored brotli-compressed (packaging/build.ts); getRawAsset reads it in place, without a copy.
    source = zlib.brotliDecompressSync(new Uint8Array(sea.getRawAsset(name))).toString('utf8');
  } catch (cause) {
    throw new PackagingError(PACKAGING_ERRORS.BUNDLED_MODULE_MISSING, `this drover executable carries no ${name}; rebuild it with npm run package`, { cause });
  }
  const filename = path.join(path.dirname(process.execPath), name);
  const fn = vm.compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
  const module: CjsModule = { exports: {} };
  // Registered before running, as require() does, so a cycle sees the partial exports.
  loaded.set(name, module);
  fn.call(module.exports, module.exports, require, module, process.execPath, path.dirname(process.execPath));
  return module.exports;
}
