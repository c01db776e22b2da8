// The executable runs with V8's lite mode (packaging/targets.ts SEA_EXEC_ARGV, decision 0901): no
// JIT compilers, 1 MiB semi-space, which is what keeps an idle agent small. A server answers many
// agents and proxied requests, so `drover server` replaces itself (execve, same pid, so systemd
// sees no change) with the same executable and `--node-options=--no-lite-mode` (the SEA config's
// execArgvExtension "cli" allows it), which turns the JIT back on.
export const LITE_MODE = '--lite-mode';
export const NO_LITE_MODE = '--no-lite-mode';

/** Pure: should this process re-execute itself with the JIT on? */
export function wantsJit(argv: readonly string[], execArgv: readonly string[], isSea: boolean): boolean {
  return isSea && argv[0] === 'server' && execArgv.includes(LITE_MODE) && !execArgv.includes(NO_LITE_MODE);
}

/** Replaces this process when `wantsJit`; returns only when it does not apply. */
export function reexecServerWithJit(isSea: boolean, proc: NodeJS.Process = process): void {
  const argv = proc.argv.slice(2);
  if (!wantsJit(argv, proc.execArgv, isSea) || typeof proc.execve !== 'function') return;
  proc.execve(proc.execPath, [proc.execPath, `--node-options=${NO_LITE_MODE}`, ...argv], proc.env as Record<string, string>);
}
