// Step 1 of `npm run package`: esbuild turns the ESM/TypeScript CLI into CommonJS, because a
// Node 24 SEA main script must be CommonJS and may only require() built-in modules.
// Issue 25 splits it, so a device's agent parses and evaluates only what it runs:
//   drover.cjs         the SEA main: packaging/runtime/sea-main.ts, which runs app/agent.cjs
//   app/agent.cjs      asset: cli/agent-main.ts, i.e. `drover agent …` and nothing else
//   app/cli.cjs        asset: the full CLI (server, admin commands), loaded for any other command
//   app/client-node.cjs asset: @kubernetes/client-node (and undici), loaded on first use
// An import of an asset-borne module becomes a stub that asks packaging/runtime/asset-module.ts.
import path from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';
import { APP_ASSETS } from './targets.ts';

export interface BundleResult {
  file: string;
  bytes: number;
  warnings: string[];
  /** Repository-relative input files that went into this bundle (esbuild's metafile). */
  inputs: string[];
}

export interface AppBundles {
  /** The agent's script (cli/agent-main.ts): what every start evaluates, the asset APP_ASSETS.agent. */
  main: BundleResult;
  /** The SEA main script: packaging/runtime/sea-main.ts, which runs `main` (decision 1220). */
  seaMain: BundleResult;
  /** SEA asset name → bundle, `main` included. */
  assets: Record<string, BundleResult>;
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

/**
 * Modules an agent loads on first use through a loader file (issue 25): pino-pretty for a person at
 * a terminal, yaml for a kubeconfig or local node plans. In the bundles each loader becomes a
 * plain require(), which the agent script routes to a SEA asset (assetModulesPlugin), so neither
 * library is parsed or evaluated by an agent that does not use it.
 */
const LAZY_LOADERS: Record<string, string> = {
  'pino-pretty-loader.ts': `export function loadPinoPretty() { return require('pino-pretty'); }`,
  'yaml-loader.ts': `let yaml; export function loadYaml() { return yaml ??= require('yaml'); }`,
};

function lazyLoadersPlugin(): Plugin {
  return {
    name: 'drover-lazy-loaders',
    setup(b) {
      b.onLoad({ filter: /agents[\\/]common[\\/][a-z-]+-loader\.ts$/ }, (args) => {
        const contents = LAZY_LOADERS[path.basename(args.path)];
        return contents === undefined ? undefined : { loader: 'js', resolveDir: path.dirname(args.path), contents };
      });
    },
  };
}

/**
 * require() calls of Node built-ins that pino and sonic-boom make at load but use only on paths an
 * agent never takes (issue 25, decision 1223): worker_threads and thread-stream for pino's
 * transports and for async destinations (the agents log synchronously to stderr), assert for one
 * check in sonic-boom. Each costs 120–150 KiB of heap and its source pages once evaluated. In the
 * bundles they become requires on first call; a dependency upgrade that moves the text fails the
 * build here rather than silently loading them again.
 */
const LAZY_REQUIRES: { file: RegExp; edits: [string, string][] }[] = [
  {
    file: /[\\/]node_modules[\\/]pino[\\/]lib[\\/]tools\.js$/,
    edits: [
      [`const { isMainThread } = require('worker_threads')`, `const isMainThread = () => require('worker_threads').isMainThread`],
      [`const transport = require('./transport')`, `const transport = (...args) => require('./transport')(...args)`],
      [`if (!opts.sync && isMainThread) {`, `if (!opts.sync && isMainThread()) {`],
    ],
  },
  {
    file: /[\\/]node_modules[\\/]pino[\\/]pino\.js$/,
    edits: [[`module.exports.transport = require('./lib/transport')`, `module.exports.transport = (...args) => require('./lib/transport')(...args)`]],
  },
  {
    file: /[\\/]node_modules[\\/]sonic-boom[\\/]index\.js$/,
    edits: [[`const assert = require('assert')`, `const assert = (...args) => require('assert')(...args)`]],
  },
];

function lazyRequiresPlugin(): Plugin {
  return {
    name: 'drover-lazy-requires',
    setup(b) {
      for (const { file, edits } of LAZY_REQUIRES) {
        b.onLoad({ filter: file }, async (args) => {
          // The top-level copy only (pino-pretty carries an older sonic-boom of its own).
          if (args.path.split(/[\\/]node_modules[\\/]/).length > 2) return undefined;
          const { readFile } = await import('node:fs/promises');
          let contents = await readFile(args.path, 'utf8');
          for (const [from, to] of edits) {
            if (!contents.includes(from)) throw new Error(`${args.path} no longer holds \`${from}\` (packaging/bundle.ts LAZY_REQUIRES)`);
            contents = contents.replace(from, to);
          }
          return { loader: 'js', contents, resolveDir: path.dirname(args.path) };
        });
      }
    },
  };
}

/**
 * zod re-exports all its ~64 message locales (`z.locales`, 300 KiB of the agent's 1.4 MiB script)
 * though only English, its default, is used: nothing here calls `z.config(z.locales.xx())`.
 * Issue 25: the script's source is held on the V8 heap and pre-parsed at every start, so the
 * bundles keep `en` alone. A `z.locales.xx` would be undefined (and fail loudly) in the executable.
 */
function zodEnglishOnlyPlugin(): Plugin {
  return {
    name: 'drover-zod-english-only',
    setup(b) {
      b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
        loader: 'js',
        resolveDir: path.dirname(args.path),
        contents: `export { default as en } from './en.js';`,
      }));
    },
  };
}

/**
 * Measurement only (issue 25, decision 1141): DROVER_BUNDLE_SQLITE=node swaps better-sqlite3 for
 * bench/footprint/node-sqlite-compat.ts (node:sqlite) in the agent's main bundle.
 */
function nodeSqlitePlugin(repoRoot: string): Plugin[] {
  if (process.env['DROVER_BUNDLE_SQLITE'] !== 'node') return [];
  const compat = path.join(repoRoot, 'bench', 'footprint', 'node-sqlite-compat.ts');
  return [{
    name: 'drover-node-sqlite',
    setup(b) {
      b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: compat }));
    },
  }];
}

/**
 * Routes imports of `modules` (bare package names, or repository files such as `cli/main.ts`)
 * to a stub that evaluates the named SEA asset on first use. Dynamic imports of the stub stay
 * lazy: esbuild wraps CommonJS modules in a function run on first require.
 */
function assetModulesPlugin(repoRoot: string, modules: Record<string, string>): Plugin {
  const loader = path.join(repoRoot, 'packaging', 'runtime', 'asset-module.ts');
  return {
    name: 'drover-asset-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const bare = modules[args.path];
        if (bare !== undefined) return { path: bare, namespace: 'drover-asset' };
        if (args.path.startsWith('.')) {
          const rel = path.relative(repoRoot, path.resolve(args.resolveDir, args.path));
          const asset = modules[rel];
          if (asset !== undefined) return { path: asset, namespace: 'drover-asset' };
        }
        return undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'drover-asset' }, (args) => ({
        loader: 'js',
        resolveDir: path.dirname(loader),
        contents: `module.exports = require(${JSON.stringify(loader)}).requireAsset(${JSON.stringify(args.path)});`,
      }));
    },
  };
}

/**
 * `npm run package -- --version-override V` (issue 16): the executable reports version V instead of
 * package.json's, so tests can build a second, distinct release of the same tree to upgrade to.
 */
function versionPlugin(repoRoot: string, version: string | undefined): Plugin[] {
  if (version === undefined) return [];
  const file = path.join(repoRoot, 'package.json');
  return [{
    name: 'drover-version-override',
    setup(b) {
      b.onLoad({ filter: /package\.json$/ }, async (args) => {
        if (path.resolve(args.path) !== file) return undefined;
        const { readFile } = await import('node:fs/promises');
        return { loader: 'json', contents: JSON.stringify({ ...(JSON.parse(await readFile(file, 'utf8')) as object), version }) };
      });
    },
  }];
}

interface OneBundle {
  entry: { file: string } | { contents: string };
  outFile: string;
  assetModules: Record<string, string>;
  version?: string | undefined;
  extraPlugins?: Plugin[];
}

async function bundleOne(repoRoot: string, spec: OneBundle): Promise<BundleResult> {
  try {
    const result = await build({
      absWorkingDir: repoRoot,
      ...('file' in spec.entry
        ? { entryPoints: [path.join(repoRoot, spec.entry.file)] }
        : { stdin: { contents: spec.entry.contents, resolveDir: repoRoot, loader: 'js' as const } }),
      outfile: spec.outFile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      // Whitespace and syntax only: minified identifiers made the agent bigger (issue 25: the
      // parse peak doubles), and keepNames keeps stack traces and class names readable.
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
      plugins: [...(spec.extraPlugins ?? []), ...versionPlugin(repoRoot, spec.version), assetModulesPlugin(repoRoot, spec.assetModules), lazyLoadersPlugin(), lazyRequiresPlugin(), zodEnglishOnlyPlugin(), sqliteBindingPlugin(repoRoot)],
      metafile: true,
    });
    return {
      file: spec.outFile,
      bytes: Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0),
      warnings: result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`),
      inputs: inputsOf(result.metafile),
    };
  } catch (cause) {
    throw new PackagingError(PACKAGING_ERRORS.BUILD_TOOL_FAILED, `esbuild could not bundle ${'file' in spec.entry ? spec.entry.file : spec.outFile}: ${String(cause)}`, {
      cause,
    });
  }
}

function inputsOf(meta: Metafile): string[] {
  return Object.keys(meta.inputs).sort();
}

/** Bundles the SEA main and its asset bundles into `outDir`. */
export async function bundleApp(repoRoot: string, outDir: string, version?: string): Promise<AppBundles> {
  const clientNode = { '@kubernetes/client-node': APP_ASSETS.clientNode };
  // Loaded on first use by the agent (LAZY_LOADERS); the full CLI carries its own copies.
  const agentLazy = { yaml: APP_ASSETS.yaml, 'pino-pretty': APP_ASSETS.pinoPretty };
  const pkg = (name: string) => ({ entry: { contents: `module.exports = require('${name}');` }, assetModules: {} });
  const [seaMain, main, cli, kube, yaml, pretty] = await Promise.all([
    bundleOne(repoRoot, { entry: { file: 'packaging/runtime/sea-main.ts' }, outFile: path.join(outDir, 'drover.cjs'), assetModules: {} }),
    bundleOne(repoRoot, { entry: { file: 'cli/agent-main.ts' }, outFile: path.join(outDir, 'agent.cjs'), assetModules: { ...clientNode, ...agentLazy, 'cli/main.ts': APP_ASSETS.cli }, version, extraPlugins: nodeSqlitePlugin(repoRoot) }),
    bundleOne(repoRoot, { entry: { file: 'cli/main.ts' }, outFile: path.join(outDir, 'cli.cjs'), assetModules: clientNode, version }),
    bundleOne(repoRoot, { ...pkg('@kubernetes/client-node'), outFile: path.join(outDir, 'client-node.cjs') }),
    bundleOne(repoRoot, { ...pkg('yaml'), outFile: path.join(outDir, 'yaml.cjs') }),
    bundleOne(repoRoot, { ...pkg('pino-pretty'), outFile: path.join(outDir, 'pino-pretty.cjs') }),
  ]);
  return { main, seaMain, assets: { [APP_ASSETS.agent]: main, [APP_ASSETS.cli]: cli, [APP_ASSETS.clientNode]: kube, [APP_ASSETS.yaml]: yaml, [APP_ASSETS.pinoPretty]: pretty } };
}
