// Step 3 of `npm run package`: Node's single-executable application support. Writes the SEA
// config, has Node 24 produce the blob (no snapshot; with SEA_CODE_CACHE the target's own Node makes
// it, under qemu for arm64), and injects it into a copy of the stripped Node binary with postject.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';
import { INSTALL_SCRIPT_ASSET, NODE_VERSION, SEA_CODE_CACHE, SEA_EXEC_ARGV, SEA_FUSE, SEA_RESOURCE, SQLITE_ASSET, SQLITE_HASH_ASSET, type Target } from './targets.ts';
import { runTool } from './tool.ts';
import { RELEASE_KEY_ASSET } from './release-signing.ts';

export interface SeaInputs {
  repoRoot: string;
  /** The CommonJS main bundle from bundle.ts. */
  bundle: string;
  /** Further bundles carried as SEA assets (asset name → file), from bundle.ts. */
  appAssets: Readonly<Record<string, string>>;
  /** Stripped Node binary for the target, from node-runtime.ts. */
  node: string;
  target: Target;
  /** Scratch directory for the config and blob. */
  workDir: string;
  /** Where the executable goes (dist/drover-linux-<arch>). */
  output: string;
  /** The release public key file (PEM) carried as an asset (issue 16); absent: none built in. */
  releasePublicKey?: string | undefined;
}

/** The blob generator and the runtime must be the very same Node version. */
function assertGeneratorVersion(): void {
  if (process.version !== `v${NODE_VERSION}`) {
    throw new PackagingError(
      PACKAGING_ERRORS.BUILD_INPUT_MISSING,
      `the build runs on Node ${process.version} but the executables ship ${NODE_VERSION}; put node_modules/.bin first on PATH (npm run package does)`,
    );
  }
}

export function seaConfig(inputs: SeaInputs, blob: string, sqliteAddon: string, sqliteHash: string): Record<string, unknown> {
  return {
    main: inputs.bundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: SEA_CODE_CACHE,
    // V8 and Node flags chosen by measurement (targets.ts, issue 25). Only here: the same flags in
    // NODE_OPTIONS make the executable exit 9.
    execArgv: [...SEA_EXEC_ARGV],
    // `--node-options=…` on the command line: how `drover server` turns the JIT back on
    // (packaging/runtime/jit-for-server.ts).
    execArgvExtension: 'cli',
    assets: {
      [SQLITE_ASSET]: sqliteAddon,
      [SQLITE_HASH_ASSET]: sqliteHash,
      [INSTALL_SCRIPT_ASSET]: path.join(inputs.repoRoot, 'packaging', 'install.sh'),
      ...(inputs.releasePublicKey ? { [RELEASE_KEY_ASSET]: inputs.releasePublicKey } : {}),
      ...inputs.appAssets,
    },
  };
}

/**
 * The command that writes the blob. Without a code cache, the build's Node (same version). With
 * one, the target's own stripped Node with the baked flags: V8 accepts a code cache only from the
 * same V8 build, CPU and flag hash (the flags change it: lite mode's cache made without
 * --lite-mode would be rejected at every start, as Node's own built-in caches are).
 */
export function blobGenerator(inputs: Pick<SeaInputs, 'node' | 'target'>, config: string): [string, string[]] {
  if (!SEA_CODE_CACHE) return [process.execPath, ['--experimental-sea-config', config]];
  const args = [...SEA_EXEC_ARGV, '--experimental-sea-config', config];
  if (inputs.target.nodeArch === process.arch) return [inputs.node, args];
  if (inputs.target.arch === 'arm64') return ['qemu-aarch64-static', [inputs.node, ...args]];
  throw new PackagingError(PACKAGING_ERRORS.BUILD_INPUT_MISSING, `cannot run the ${inputs.target.arch} Node here to make its code cache`);
}

export function buildExecutable(inputs: SeaInputs): string {
  assertGeneratorVersion();
  const sqliteAddon = path.join(inputs.repoRoot, 'node_modules', 'better-sqlite3', inputs.target.sqlitePrebuild);
  if (!fs.existsSync(sqliteAddon)) {
    throw new PackagingError(
      PACKAGING_ERRORS.BUILD_INPUT_MISSING,
      `better-sqlite3 prebuild ${inputs.target.sqlitePrebuild} is missing; run npm ci --ignore-scripts`,
    );
  }
  fs.mkdirSync(inputs.workDir, { recursive: true });
  const blob = path.join(inputs.workDir, `sea-${inputs.target.arch}.blob`);
  const config = path.join(inputs.workDir, `sea-config-${inputs.target.arch}.json`);
  const sqliteHash = path.join(inputs.workDir, `better_sqlite3-${inputs.target.arch}.sha256`);
  fs.writeFileSync(sqliteHash, createHash('sha256').update(fs.readFileSync(sqliteAddon)).digest('hex'));
  fs.writeFileSync(config, JSON.stringify(seaConfig(inputs, blob, sqliteAddon, sqliteHash), null, 2));
  runTool(...blobGenerator(inputs, config), { cwd: inputs.workDir });

  fs.mkdirSync(path.dirname(inputs.output), { recursive: true });
  const tmp = `${inputs.output}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.copyFileSync(inputs.node, tmp);
  fs.chmodSync(tmp, 0o755);
  const postject = path.join(inputs.repoRoot, 'node_modules', 'postject', 'dist', 'cli.js');
  runTool(process.execPath, [postject, tmp, SEA_RESOURCE, blob, '--sentinel-fuse', SEA_FUSE], {
    hint: 'postject is a devDependency: npm ci',
  });
  fs.renameSync(tmp, inputs.output);
  return inputs.output;
}
