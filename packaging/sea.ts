// Step 3 of `npm run package`: Node's single-executable application support. Writes the SEA
// config, has Node 24 produce the blob (no snapshot, no code cache: the blob made on x86_64 must
// also run on arm64), and injects it into a copy of the stripped Node binary with postject.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';
import { INSTALL_SCRIPT_ASSET, NODE_VERSION, SEA_EXEC_ARGV, SEA_FUSE, SEA_RESOURCE, SQLITE_ASSET, SQLITE_HASH_ASSET, type Target } from './targets.ts';
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
    useCodeCache: false,
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
  runTool(process.execPath, ['--experimental-sea-config', config], { cwd: inputs.workDir });

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
