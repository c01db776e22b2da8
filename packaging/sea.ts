// Step 3 of `npm run package`: Node's single-executable application support. Writes the SEA
// config, has Node 24 produce the blob (no snapshot, no code cache: the blob made on x86_64 must
// also run on arm64), and injects it into a copy of the stripped Node binary with postject.
import fs from 'node:fs';
import path from 'node:path';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';
import { INSTALL_SCRIPT_ASSET, NODE_VERSION, SEA_FUSE, SEA_RESOURCE, SQLITE_ASSET, type Target } from './targets.ts';
import { runTool } from './tool.ts';

export interface SeaInputs {
  repoRoot: string;
  /** The CommonJS bundle from bundle.ts. */
  bundle: string;
  /** Stripped Node binary for the target, from node-runtime.ts. */
  node: string;
  target: Target;
  /** Scratch directory for the config and blob. */
  workDir: string;
  /** Where the executable goes (dist/drover-linux-<arch>). */
  output: string;
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

export function seaConfig(inputs: SeaInputs, blob: string, sqliteAddon: string): Record<string, unknown> {
  return {
    main: inputs.bundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: false,
    assets: {
      [SQLITE_ASSET]: sqliteAddon,
      [INSTALL_SCRIPT_ASSET]: path.join(inputs.repoRoot, 'packaging', 'install.sh'),
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
  fs.writeFileSync(config, JSON.stringify(seaConfig(inputs, blob, sqliteAddon), null, 2));
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
