// Stable error codes of the packaging package (build and the SEA runtime helpers).
// Documented in docs/errors-packaging.md; errors.test.ts keeps code and docs in sync.

export const PACKAGING_ERRORS = Object.freeze({
  /** A build tool (esbuild, node --experimental-sea-config, postject, strip, npm pack, tar) failed. */
  BUILD_TOOL_FAILED: 'BUILD_TOOL_FAILED',
  /** An input of the build is missing (Node binary, better-sqlite3 prebuild, unit file). */
  BUILD_INPUT_MISSING: 'BUILD_INPUT_MISSING',
  /** An executable is larger than the gzip budget (targets.ts GZIP_BUDGET_BYTES). */
  BUILD_OVER_BUDGET: 'BUILD_OVER_BUDGET',
  /** The executable carries no SQLite addon asset for this CPU. */
  NATIVE_ADDON_MISSING: 'NATIVE_ADDON_MISSING',
  /** No private directory to extract the addon into (set CacheDirectory= or DROVER_CACHE_DIR). */
  NATIVE_CACHE_DIR_UNAVAILABLE: 'NATIVE_CACHE_DIR_UNAVAILABLE',
  /** The extraction directory is shared (world/group-writable, temp dir, or owned by someone else). */
  NATIVE_CACHE_DIR_UNSAFE: 'NATIVE_CACHE_DIR_UNSAFE',
  /** The extracted addon's SHA-256 differs from the embedded asset's, even after rewriting it. */
  NATIVE_ADDON_MISMATCH: 'NATIVE_ADDON_MISMATCH',
  /** A module the executable loads from one of its assets (the full CLI, client-node) is missing. */
  BUNDLED_MODULE_MISSING: 'BUNDLED_MODULE_MISSING',
} as const);

export type PackagingErrorCode = (typeof PACKAGING_ERRORS)[keyof typeof PACKAGING_ERRORS];

export class PackagingError extends Error {
  readonly code: PackagingErrorCode;
  constructor(code: PackagingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PackagingError';
    this.code = code;
  }
}
