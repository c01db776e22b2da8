// The external renderers (helm, kustomize) behind a small injected interface: tests pass `tools` from
// test/k8s/harness.ts, production passes paths from config. runTool bounds time and output and turns
// every failure into a FleetError that carries the tool's own stderr (trimmed), never a bare exit code.
import { execa } from 'execa';
import { FleetError, type FleetErrorCode, type FleetErrorContext } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';
import type { ChartCache } from './chart-cache.ts';

export interface RenderTools {
  helm(): string;
  kustomize(): string;
  /** Credentials and TLS options for charts from Helm repositories and OCI registries (issue 19). */
  helmSource?: HelmSourceAccess | undefined;
}

/** How render-helm.ts reaches a chart repository; built per gitrepo by helm-access.ts. */
export interface HelmSourceAccess {
  /** Credentials and TLS material for this chart URL (`https://…` repository or `oci://…`). */
  forUrl(url: string): HelmUrlAccess;
  /** Told which version a chart (and a `helm.version` range) resolved to. */
  resolved(bundle: string, chart: string, version: string): void;
  /** Charts pulled once per render pass and shared by its targets (chart-cache.ts). */
  cache?: ChartCache | undefined;
}

export interface HelmUrlAccess {
  username?: string | undefined;
  password?: string | undefined;
  caBundle?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  insecureSkipTLSVerify?: boolean | undefined;
  /** Set when helmSecretName names a secret that is not stored or cannot be used over HTTP. */
  problem?: string | undefined;
}

/** Tool paths fixed at startup (from config). */
export function toolsAt(paths: { helm: string; kustomize: string }): RenderTools {
  return Object.freeze({ helm: () => paths.helm, kustomize: () => paths.kustomize });
}

export interface RunToolOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** The error code to use when the tool exits non-zero. */
  failure: FleetErrorCode;
  /** Prefix for messages, e.g. "bundle web, cluster c1". */
  what: string;
  context: FleetErrorContext;
  timeoutMs?: number;
  maxBytes?: number;
  /** Written to the tool's stdin (a password for `--password-stdin`); stdin is closed otherwise. */
  input?: string | undefined;
}

function tail(text: string): string {
  const t = text.trim();
  return t.length > FLEET_LIMITS.maxToolErrorChars ? `…${t.slice(-FLEET_LIMITS.maxToolErrorChars)}` : t;
}

export async function runTool(file: string, args: readonly string[], opts: RunToolOptions): Promise<string> {
  const result = await execa(file, args, {
    reject: false,
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: opts.env === undefined,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    timeout: opts.timeoutMs ?? FLEET_LIMITS.renderTimeoutMs,
    maxBuffer: opts.maxBytes ?? FLEET_LIMITS.maxRenderedBytes,
    stripFinalNewline: false,
  });
  if (!result.failed) return String(result.stdout);
  const code = (result as { code?: string }).code;
  if (code === 'ENOENT' || code === 'EACCES') {
    throw new FleetError('TOOL_NOT_FOUND', `${opts.what}: cannot run ${file} (${code}); check the configured tool paths`, opts.context);
  }
  if (result.isMaxBuffer) {
    throw new FleetError('RENDER_TOO_LARGE', `${opts.what}: ${file} produced more than ${opts.maxBytes ?? FLEET_LIMITS.maxRenderedBytes} bytes`, opts.context);
  }
  if (result.timedOut) {
    throw new FleetError(opts.failure, `${opts.what}: ${file} did not finish within ${opts.timeoutMs ?? FLEET_LIMITS.renderTimeoutMs} ms`, opts.context);
  }
  throw new FleetError(opts.failure, `${opts.what}: ${tail(String(result.stderr)) || `exit code ${String(result.exitCode)}`}`, opts.context);
}
