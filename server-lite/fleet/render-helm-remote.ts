// Charts from a Helm repository (`helm.repo` + `helm.chart`) or an OCI registry (`oci://…`), pulled
// into the render's throwaway directory with the gitrepo's credentials (helm-access.ts), so
// `helm template` then renders a local chart. Passwords go to helm on stdin (`--password-stdin`),
// never on its command line; CA and client certificates are 0600 files in that directory, which
// render-helm.ts removes with everything helm wrote there (repositories.yaml, registry config).
// The version a `helm.version` range resolved to is read from the pulled Chart.yaml.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FleetError } from './errors.ts';
import { runTool, type HelmUrlAccess, type RenderTools } from './tools.ts';

export interface RemoteChart {
  /** `oci://host/path/chart`, or the chart name in `repo`. */
  chart: string;
  repo?: string | undefined;
  version?: string | undefined;
}

/** What helm's stderr says went wrong, as the code a user acts on. */
export function helmFailureCode(stderr: string): 'HELM_REPO_AUTH_FAILED' | 'HELM_REPO_TLS_FAILED' | 'HELM_CHART_NOT_FOUND' | 'HELM_RENDER_FAILED' {
  if (/x509:|certificate signed by unknown authority|failed to verify certificate|tls: /i.test(stderr)) return 'HELM_REPO_TLS_FAILED';
  // URLs and addresses out first: a registry on port 33401 or a path with 403 in it is no HTTP status.
  const text = stderr.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"']*/gi, ' ').replace(/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?[^\s"']*/g, ' ');
  if (/\b(?:401|403)\b|unauthorized|authentication required|denied|forbidden|basic credential|credentials? (not found|required)/i.test(text)) return 'HELM_REPO_AUTH_FAILED';
  if (/no chart version found|no chart name found|not found|could not find|invalid_reference|manifest unknown|name unknown|no matching version|no versions? (found|match)|could not locate a version/i.test(stderr)) return 'HELM_CHART_NOT_FOUND';
  return 'HELM_RENDER_FAILED';
}

export function isRemoteChart(chart: string | undefined, repo: string | undefined): boolean {
  return repo !== undefined || /^oci:\/\//.test(chart ?? '');
}

/** Pulls the chart into `work/chart/` and returns its directory and resolved version. */
export async function pullChart(input: {
  work: string;
  ref: RemoteChart;
  bundle: string;
  target: string;
  tools: RenderTools;
  env: Record<string, string>;
}): Promise<{ dir: string; version: string }> {
  const { work, ref, bundle, target, tools, env } = input;
  const url = ref.repo ?? ref.chart;
  const access: HelmUrlAccess = tools.helmSource?.forUrl(url) ?? {};
  const context = { bundle, target };
  if (access.problem !== undefined) throw new FleetError('GIT_CREDENTIALS_MISSING', access.problem, context);
  const tls: string[] = [];
  const pem = async (name: string, content: string): Promise<string> => {
    const path = join(work, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  };
  if (access.caBundle) tls.push('--ca-file', await pem('ca.pem', access.caBundle));
  if (access.cert && access.key) tls.push('--cert-file', await pem('cert.pem', access.cert), '--key-file', await pem('key.pem', access.key));
  const what = `bundle ${bundle}, target ${target}: chart ${ref.chart}${ref.repo ? ` from ${ref.repo}` : ''}${ref.version ? ` version ${ref.version}` : ''}`;
  const run = async (args: string[], stdin?: string): Promise<string> => {
    try {
      return await runTool(tools.helm(), args, { failure: 'HELM_RENDER_FAILED', what, context, env, input: stdin });
    } catch (e) {
      if (e instanceof FleetError && e.code === 'HELM_RENDER_FAILED') throw new FleetError(helmFailureCode(e.message), e.message, e.context);
      throw e;
    }
  };
  const hasLogin = access.username !== undefined && access.password !== undefined;
  const pullRef = ref.repo !== undefined ? `drover-source/${ref.chart}` : ref.chart;
  // The chart archive may be fetched from another URL than the index: the same TLS options.
  const pullFlags = [...tls, ...(access.insecureSkipTLSVerify ? ['--insecure-skip-tls-verify'] : [])];
  /** `helm repo add` or `helm registry login` in this render's helm home, password on stdin. */
  const signIn = async (): Promise<void> => {
    if (ref.repo !== undefined) {
      const add = ['repo', 'add', 'drover-source', ref.repo, ...tls];
      if (access.insecureSkipTLSVerify) add.push('--insecure-skip-tls-verify');
      if (hasLogin) add.push('--username', access.username ?? '', '--password-stdin', '--pass-credentials');
      await run(add, hasLogin ? access.password : undefined);
    } else if (hasLogin) {
      const host = new URL(ref.chart.replace(/^oci:/, 'https:')).host;
      const login = ['registry', 'login', host, '--username', access.username ?? '', '--password-stdin', ...tls];
      if (access.insecureSkipTLSVerify) login.push('--insecure');
      await run(login, access.password);
    }
  };
  const pull = async (into: string): Promise<{ dir: string; version: string }> => {
    await signIn();
    await mkdir(into, { recursive: true });
    await run(['pull', pullRef, ...(ref.version !== undefined ? ['--version', ref.version] : []), '--untar', '--untardir', into, ...pullFlags]);
    const entries = await readdir(into);
    const name = entries[0];
    if (entries.length !== 1 || name === undefined) throw new FleetError('HELM_RENDER_FAILED', `${what}: helm pull left ${entries.length} entries instead of one chart`, context);
    const dir = join(into, name);
    const meta = parse(await readFile(join(dir, 'Chart.yaml'), 'utf8')) as { version?: unknown; name?: unknown };
    const version = String(meta.version ?? '?');
    tools.helmSource?.resolved(bundle, String(meta.name ?? name), version);
    return { dir, version };
  };
  const cache = tools.helmSource?.cache;
  return cache ? cache.fetch(JSON.stringify([bundle, ref.repo ?? null, ref.chart, ref.version ?? null]), pull) : pull(join(work, 'chart'));
}
