// Runs the external tools of the build (strip, npm pack, postject, tar) and turns a failure
// into BUILD_TOOL_FAILED carrying the tool's own stderr, so the user sees what went wrong.
import { spawnSync } from 'node:child_process';
import { PackagingError, PACKAGING_ERRORS } from './errors.ts';

/** Ten minutes: the slowest step (npm pack of a 50 MB tarball on a slow link) fits easily. */
const TOOL_TIMEOUT_MS = 10 * 60 * 1000;
/** Tools here print little; cap what we keep so a runaway tool cannot exhaust memory. */
const TOOL_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export interface ToolOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A hint printed with the error, e.g. which Debian package provides the tool. */
  hint?: string;
}

/** Runs `cmd args…`, returns its stdout; throws BUILD_TOOL_FAILED on a non-zero exit. */
export function runTool(cmd: string, args: readonly string[], options: ToolOptions = {}): string {
  const res = spawnSync(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: TOOL_TIMEOUT_MS,
    maxBuffer: TOOL_MAX_OUTPUT_BYTES,
  });
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : `exit ${res.status ?? res.signal}`;
    const hint = options.hint ? ` (${options.hint})` : '';
    throw new PackagingError(
      PACKAGING_ERRORS.BUILD_TOOL_FAILED,
      `${cmd} ${args.join(' ')} failed: ${why}${hint}\n${(res.stderr ?? '').slice(-4000)}`,
      { cause: res.error },
    );
  }
  return res.stdout;
}
