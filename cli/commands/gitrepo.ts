// `drover gitrepo add|list|delete` (ARCHITECTURE.md §3): the server polls a git repository with the
// real `git` (backoff on errors; POST /v1/fleet/webhook polls at once) and turns each path or
// fleet.yaml into a bundle named GITREPO-path.
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { durationSeconds } from '../duration.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';
import { parseTarget } from '../../server-lite/fleet/target-spec.ts';
import { readFileSync } from 'node:fs';
import { gitRepoYaml, readFleetResources } from '../fleet-resources.ts';

/** `30s`, `5m`, `1h` or plain seconds. */
export function parseInterval(text: string): number {
  const n = durationSeconds(text, { bareSeconds: true, units: ['s', 'm', 'h'] });
  if (n === undefined) throw new CliError(EXIT.USAGE, `--poll-interval must look like 30s, 5m or 1h, got ${text}`);
  if (n < 1 || n > 86_400) throw new CliError(EXIT.USAGE, '--poll-interval must be between 1s and 24h');
  return n;
}

/** Gitrepo names prefix bundle names, so they are DNS labels (the server checks the same). */
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface GitRepoRow {
  name: string;
  repo: string;
  branch?: string;
  revision?: string;
  /** `--target` values given at `gitrepo add` (absent: every cluster). */
  targets?: string[];
  commit: string | null;
  /** The last poll's git error. */
  error: string | null;
  bundles: string[];
  /** Bundles of this gitrepo that failed to render at the last commit (their earlier revision stays). */
  bundleErrors: { bundle: string; code: string; message: string }[];
  /** The chart version each Helm bundle's `helm.version` resolved to at its last render (issue 19). */
  charts?: { bundle: string; chart: string; version: string }[];
}

/** Joins the gitrepos with their bundles' errors: a gitrepo whose chart no longer renders is not healthy. */
export function withBundleErrors(
  gitrepos: readonly Omit<GitRepoRow, 'bundleErrors'>[],
  bundles: readonly { name: string; error?: { code: string; message: string } | undefined }[],
): GitRepoRow[] {
  const errors = new Map(bundles.flatMap((b) => (b.error ? [[b.name, b.error] as const] : [])));
  return gitrepos.map((g) => ({
    ...g,
    bundleErrors: g.bundles.flatMap((b) => {
      const e = errors.get(b);
      return e ? [{ bundle: b, code: e.code, message: e.message }] : [];
    }),
  }));
}

/** The ERROR column: the git error, else which bundles fail with which code. */
export function errorColumn(g: GitRepoRow): string {
  if (g.error) return g.error.split('\n')[0] ?? g.error;
  return g.bundleErrors.map((e) => `${e.bundle}: ${e.code}`).join(', ') || '-';
}

/** The gitrepo's source-access fields from its flags (secret names and a CA file; no secret values). */
export function accessBody(opts: { clientSecret?: string; helmSecret?: string; helmRepoUrlRegex?: string; caBundleFile?: string; insecureSkipTlsVerify?: boolean }): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  if (opts.clientSecret) out.clientSecretName = opts.clientSecret;
  if (opts.helmSecret) out.helmSecretName = opts.helmSecret;
  if (opts.helmRepoUrlRegex) {
    try {
      new RegExp(opts.helmRepoUrlRegex);
    } catch (e) {
      throw new CliError(EXIT.USAGE, `--helm-repo-url-regex: ${(e as Error).message}`);
    }
    out.helmRepoURLRegex = opts.helmRepoUrlRegex;
  }
  if (opts.caBundleFile) {
    try {
      out.caBundle = readFileSync(opts.caBundleFile, 'utf8');
    } catch (e) {
      throw new CliError(EXIT.USAGE, `--ca-bundle-file ${opts.caBundleFile}: ${(e as Error).message}`);
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(String(out.caBundle))) throw new CliError(EXIT.USAGE, `--ca-bundle-file ${opts.caBundleFile} holds no PEM certificate`);
  }
  if (opts.insecureSkipTlsVerify) out.insecureSkipTLSVerify = true;
  return out;
}

export function registerGitRepo(program: Command): void {
  const gitrepo = program
    .command('gitrepo')
    .description('git repositories the server polls for bundles (admin)')
    .addHelpText('after', '\nExample:\n  drover gitrepo add apps --repo https://git.example.com/ops/apps.git --branch main --paths web,monitoring');

  addAdminOptions(
    gitrepo
      .command('add')
      .argument('<name>', 'gitrepo name (prefix of its bundle names)')
      .description('poll a repository; every path (or fleet.yaml below it) becomes a bundle')
      .addOption(new Option('--repo <url>', 'repository URL (https://, ssh, git:// or file://)').env('DROVER_GITREPO_REPO').makeOptionMandatory())
      .addOption(new Option('--branch <branch>', 'branch to follow (default: the remote HEAD)').env('DROVER_GITREPO_BRANCH'))
      .addOption(new Option('--revision <rev>', 'a pinned commit or tag (wins over --branch)').env('DROVER_GITREPO_REVISION'))
      .addOption(new Option('--paths <a,b>', 'comma-separated directories to scan (default: the whole repository)').env('DROVER_GITREPO_PATHS'))
      .addOption(new Option('--poll-interval <duration>', 'time between polls, e.g. 15s, 5m').env('DROVER_GITREPO_POLL_INTERVAL').default('15s'))
      .addOption(new Option('--target <selector...>', 'clusters its bundles target: a label selector (env=edge), cluster=NAME or group=NAME; repeatable (default: every cluster; fleet.yaml targetCustomizations still apply)').env('DROVER_GITREPO_TARGET'))
      .addOption(new Option('--client-secret <name>', "secret with the git credentials (Fleet's clientSecretName): basic-auth or token for https://, ssh for ssh:// and user@host:path").env('DROVER_GITREPO_CLIENT_SECRET'))
      .addOption(new Option('--helm-secret <name>', "secret for Helm repositories and OCI registries of its charts (Fleet's helmSecretName)").env('DROVER_GITREPO_HELM_SECRET'))
      .addOption(new Option('--helm-repo-url-regex <regex>', 'use --helm-secret only for chart URLs matching this regular expression (helmRepoURLRegex)').env('DROVER_GITREPO_HELM_REPO_URL_REGEX'))
      .addOption(new Option('--ca-bundle-file <file>', "PEM CA of the git server's and chart repositories' certificates (caBundle)").env('DROVER_GITREPO_CA_BUNDLE_FILE'))
      .addOption(new Option('--insecure-skip-tls-verify', 'do not check TLS certificates of the git server and chart repositories (test servers only)').env('DROVER_GITREPO_INSECURE_SKIP_TLS_VERIFY'))
      .addHelpText('after', '\nExamples:\n  drover gitrepo add demo --repo file:///srv/git/demo.git --paths plain,helm --poll-interval 10s --target env=edge\n  drover gitrepo add apps --repo git@git.example.com:ops/apps.git --client-secret git-ssh --helm-secret charts'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { repo: string; branch?: string; revision?: string; paths?: string; pollInterval: string; target?: string[] | string; clientSecret?: string; helmSecret?: string; helmRepoUrlRegex?: string; caBundleFile?: string; insecureSkipTlsVerify?: boolean }) => {
      const targets = typeof opts.target === 'string' ? [opts.target] : (opts.target ?? []);
      targets.forEach((t, i) => {
        try {
          parseTarget(t, i);
        } catch (e) {
          throw new CliError(EXIT.USAGE, `--target ${t}: ${(e as Error).message}`);
        }
      });
      if (!NAME.test(name)) throw new CliError(EXIT.USAGE, `gitrepo name "${name}" must be a DNS label (lowercase letters, digits, '-', at most 63)`);
      if (opts.repo.trim() === '') throw new CliError(EXIT.USAGE, '--repo must not be empty');
      const body = {
        name, repo: opts.repo, pollIntervalSeconds: parseInterval(opts.pollInterval),
        ...(opts.branch ? { branch: opts.branch } : {}),
        ...(opts.revision ? { revision: opts.revision } : {}),
        ...(opts.paths ? { paths: opts.paths.split(',').map((p) => p.trim()).filter((p) => p !== '') } : {}),
        ...(targets.length > 0 ? { targets } : {}),
        ...accessBody(opts),
      };
      const conn = resolveConnection(opts);
      await adminRequest(conn, 'POST', '/v1/fleet/gitrepos', body);
      process.stdout.write(`gitrepo ${name}: polling ${opts.repo}\n`);
      // Fleet lets a GitRepo name a secret made later; say so, the poll fails until it exists.
      for (const [flag, secret] of [['--client-secret', opts.clientSecret], ['--helm-secret', opts.helmSecret]] as const) {
        if (secret === undefined) continue;
        const found = await adminRequest(conn, 'GET', `/v1/secrets/${encodeURIComponent(secret)}`).then(() => true, () => false);
        if (!found) process.stderr.write(`drover: warning: ${flag} ${secret}: no such secret yet (drover secret create ${secret} --type …); polls fail with GIT_CREDENTIALS_MISSING until it exists\n`);
      }
    }),
  );

  addAdminOptions(
    gitrepo
      .command('list')
      .description('list gitrepos with the commit last seen, their bundles and errors (git, or a bundle that no longer renders)')
      .addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover gitrepo list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const conn = resolveConnection(opts);
      const [g, b] = await Promise.all([adminRequest(conn, 'GET', '/v1/fleet/gitrepos'), adminRequest(conn, 'GET', '/v1/fleet/bundles')]);
      const rows = withBundleErrors(
        (g.body as { gitrepos: Omit<GitRepoRow, 'bundleErrors'>[] }).gitrepos,
        (b.body as { bundles: { name: string; error?: { code: string; message: string } }[] }).bundles,
      );
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['NAME', 'REPO', 'REF', 'COMMIT', 'TARGETS', 'BUNDLES', 'ERROR']];
      for (const r of rows) lines.push([r.name, r.repo, r.revision ?? r.branch ?? '-', (r.commit ?? '-').slice(0, 12), r.targets?.join(' ') || 'all', r.bundles.join(',') || '-', errorColumn(r)]);
      // The full messages (helm's own words) below the table: too long for a column.
      const details = rows.flatMap((r) => [
        ...(r.error && r.error.includes('\n') ? [`${r.name}: ${r.error}`] : []),
        ...r.bundleErrors.map((e) => `${e.bundle}: ${e.code}: ${e.message}`),
      ]);
      process.stdout.write(table(lines));
      const charts = rows.flatMap((r) => (r.charts ?? []).map((c) => `  ${c.bundle}: ${c.chart} ${c.version}`));
      if (charts.length > 0) process.stdout.write(`\ncharts:\n${charts.join('\n')}\n`);
      if (details.length > 0) process.stdout.write(`\nerrors:\n${details.map((d) => `  ${d.replace(/\n/g, '\n    ')}`).join('\n')}\n`);
    }),
  );

  addAdminOptions(
    gitrepo
      .command('apply')
      .description("create gitrepos and cluster groups from Fleet's own YAML (GitRepo, ClusterGroup objects, fleet.cattle.io/v1alpha1)")
      .addOption(new Option('-f, --filename <file>', 'a YAML file of Fleet GitRepo and ClusterGroup objects (- for stdin)').makeOptionMandatory())
      .addHelpText('after', '\nFields Drover cannot honour are refused with the reason when ignoring them would change what is\ndeployed or where (nothing is applied then); others are warnings. Exit 1 on any refusal.\n\nExample:\n  drover gitrepo apply -f fleet-gitrepos.yaml'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { filename: string }) => {
      let text: string;
      try {
        text = opts.filename === '-' ? readFileSync(0, 'utf8') : readFileSync(opts.filename, 'utf8');
      } catch (err) {
        throw new CliError(EXIT.USAGE, `cannot read ${opts.filename}: ${(err as Error).message}`);
      }
      const r = readFleetResources(text, opts.filename);
      for (const w of r.warnings) process.stderr.write(`drover: warning: ${w}\n`);
      if (r.errors.length > 0) throw new CliError(EXIT.FAILURE, `nothing applied:\n  ${r.errors.join('\n  ')}`);
      if (r.gitrepos.length + r.clustergroups.length === 0) throw new CliError(EXIT.USAGE, `${opts.filename} holds no GitRepo or ClusterGroup`);
      const conn = resolveConnection(opts);
      // Groups first: gitrepo targets may name them.
      for (const g of r.clustergroups) {
        await adminRequest(conn, 'POST', '/v1/fleet/clustergroups', g);
        process.stdout.write(`clustergroup ${g.name}: ${g.selector}\n`);
      }
      for (const g of r.gitrepos) {
        await adminRequest(conn, 'POST', '/v1/fleet/gitrepos', g);
        process.stdout.write(`gitrepo ${g.name}: polling ${g.repo}\n`);
      }
    }),
  );

  addAdminOptions(
    gitrepo
      .command('get')
      .argument('<name>', 'gitrepo name')
      .description("one gitrepo, as Fleet's GitRepo YAML (-o yaml) or JSON")
      .addOption(new Option('-o, --output <format>', 'yaml (Fleet GitRepo) or json').choices(['yaml', 'json']).default('yaml'))
      .addHelpText('after', '\nExample:\n  drover gitrepo get apps -o yaml > apps.yaml'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions & { output: 'yaml' | 'json' }) => {
      const list = ((await adminRequest(resolveConnection(opts), 'GET', '/v1/fleet/gitrepos')).body as { gitrepos: Parameters<typeof gitRepoYaml>[0][] }).gitrepos;
      const g = list.find((x) => x.name === name);
      if (!g) throw new CliError(EXIT.FAILURE, `no gitrepo named ${name} (see drover gitrepo list)`);
      process.stdout.write(opts.output === 'json' ? `${JSON.stringify(g)}\n` : gitRepoYaml(g));
    }),
  );

  addAdminOptions(
    gitrepo
      .command('delete')
      .argument('<name>', 'gitrepo name')
      .description('stop polling; its bundles are deleted (objects pruned unless keepResources)')
      .addHelpText('after', '\nExample:\n  drover gitrepo delete demo'),
  ).action(
    withExitCodes(async (name: string, opts: AdminOptions) => {
      await adminRequest(resolveConnection(opts), 'DELETE', `/v1/fleet/gitrepos/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted gitrepo ${name}\n`);
    }),
  );
}
