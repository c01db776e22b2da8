// `drover release import PATH` and `drover release list [--json]` (ARCHITECTURE.md §3, issue 16).
// Import takes `npm run package`'s dist/ folder or an air-gap tarball, checks the signature and
// checksums here first (with the key built into this drover) and uploads each executable to the
// server, which checks them again before storing anything.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EXIT } from '../exit-codes.ts';
import { addAdminOptions, adminRequest, CliError, resolveConnection, withExitCodes, type AdminConnection, type AdminOptions } from '../admin-client.ts';
import { table } from './token.ts';
import { releaseFolder } from '../../agents/upgrade/agent-upgrade.ts';
import { releasePublicKeyPem } from '../../agents/upgrade/release-key.ts';
import { fileSha256 } from '../../agents/upgrade/upgrade-target.ts';
import { UpgradeError } from '../../protocol/release-errors.ts';
import { checkSha, parseSums, verifiedVersion, verifySumsSignature } from '../../protocol/release-verify.ts';
import type { ReleaseView } from '../../server-lite/upgrades/release-service.ts';

const ARCHES = ['amd64', 'arm64'] as const;

function upload(conn: AdminConnection, file: string, version: string, artifact: string, sums: string, signature: string): Promise<ReleaseView> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${conn.url}/v1/releases/${encodeURIComponent(version)}/${artifact}`, {
      method: 'POST',
      ...(conn.ca === undefined ? {} : { ca: conn.ca }),
      headers: {
        authorization: `Bearer ${conn.token}`,
        accept: 'application/json',
        'content-type': 'application/octet-stream',
        'content-length': fs.statSync(file).size,
        'x-drover-sums': Buffer.from(sums).toString('base64'),
        'x-drover-signature': signature.trim(),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep text
        }
        if ((res.statusCode ?? 0) >= 400) {
          const e = (body as { error?: { code?: string; message?: string } }).error;
          reject(new CliError(res.statusCode === 401 || res.statusCode === 403 ? EXIT.CREDENTIAL_REJECTED : EXIT.FAILURE, `server refused ${artifact}: ${e?.code ?? `HTTP ${res.statusCode}`}: ${e?.message ?? text.slice(0, 200)}`));
        } else resolve(body as ReleaseView);
      });
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(new CliError(EXIT.SERVER_UNREACHABLE, `cannot reach ${conn.url}: ${err.code ?? ''} ${err.message}`)));
    fs.createReadStream(file).pipe(req);
  });
}

export function registerRelease(program: Command): void {
  const release = program
    .command('release')
    .description('signed releases of drover on the server, which agents are upgraded to (admin)')
    .addHelpText('after', '\nExample:\n  drover release import dist/\n  drover upgrade agents --version 0.2.0 --canary 1');

  addAdminOptions(
    release
      .command('import')
      .description('verify a release (signature, checksums) and store its executables on the server')
      .argument('<path>', "npm run package's dist/ folder, or an air-gap tarball drover-airgap-linux-<arch>.tar.gz")
      .addHelpText('after', '\nExit codes: 1 the release does not verify (nothing stored), 2 PATH holds no release.\n\nExample:\n  drover release import ./dist'),
  ).action(
    withExitCodes(async (from: string, opts: AdminOptions) => {
      const conn = resolveConnection(opts);
      let folder;
      try {
        folder = await releaseFolder(from);
      } catch (err) {
        throw new CliError(EXIT.USAGE, `${from}: ${(err as Error).message}`);
      }
      try {
        const read = (name: string): string | undefined => (fs.existsSync(path.join(folder.dir, name)) ? fs.readFileSync(path.join(folder.dir, name), 'utf8') : undefined);
        const sums = read('sha256sums');
        if (!sums) throw new CliError(EXIT.USAGE, `${from} holds no sha256sums (give npm run package's dist/ folder or an air-gap tarball)`);
        const signature = read('sha256sums.sig');
        if (!signature) throw new CliError(EXIT.FAILURE, `SIGNATURE_MISSING: ${from} holds no sha256sums.sig: unsigned releases are refused`);
        let version: string;
        const present: { arch: string; file: string; artifact: string }[] = [];
        try {
          const key = releasePublicKeyPem();
          if (key) verifySumsSignature(sums, signature, key);
          const list = parseSums(sums);
          const vfile = path.join(folder.dir, 'VERSION');
          version = verifiedVersion(list, fs.existsSync(vfile) ? fs.readFileSync(vfile) : undefined);
          for (const arch of ARCHES) {
            const artifact = `drover-linux-${arch}`;
            const file = path.join(folder.dir, artifact);
            const want = list.get(artifact);
            if (!want || !fs.existsSync(file)) continue;
            checkSha(artifact, await fileSha256(file), want);
            present.push({ arch, file, artifact });
          }
        } catch (err) {
          if (err instanceof UpgradeError) throw new CliError(EXIT.FAILURE, `${err.code}: ${err.message}`);
          throw err;
        }
        if (present.length === 0) throw new CliError(EXIT.USAGE, `${from} holds no drover-linux-amd64 or drover-linux-arm64 listed in its sha256sums`);
        for (const p of present) {
          const r = await upload(conn, p.file, version, p.artifact, sums, signature);
          process.stdout.write(`imported ${r.version} ${r.artifact} (${(r.size / 1024 / 1024).toFixed(1)} MiB, sha256 ${r.sha256.slice(0, 16)}…)\n`);
        }
      } finally {
        folder.cleanup();
      }
    }),
  );

  addAdminOptions(
    release.command('list').description('releases stored on the server, one row per version and CPU').addOption(new Option('--json', 'print JSON').env('DROVER_JSON'))
      .addHelpText('after', '\nExample:\n  drover release list --json'),
  ).action(
    withExitCodes(async (opts: AdminOptions & { json?: boolean }) => {
      const rows = (await adminRequest(resolveConnection(opts), 'GET', '/v1/releases')).body as ReleaseView[];
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const lines = [['VERSION', 'ARCH', 'SIZE', 'SHA256', 'IMPORTED']];
      for (const r of rows) lines.push([r.version, r.arch, `${(r.size / 1024 / 1024).toFixed(1)} MiB`, r.sha256.slice(0, 16), r.importedAt]);
      process.stdout.write(table(lines));
    }),
  );

  addAdminOptions(
    release.command('delete')
      .argument('<version>', 'the version to delete, every architecture of it')
      .description('delete a release from the server (its rows, its executables in the data dir and, on PostgreSQL, in the database); refused while an upgrade to it is running or halted')
      .addHelpText('after', '\nAgents already running the version keep their executable and their rollback copy.\nExit codes: 1 refused (in use) or not found.\n\nExample:\n  drover release delete 0.1.0'),
  ).action(
    withExitCodes(async (version: string, opts: AdminOptions) => {
      const r = (await adminRequest(resolveConnection(opts), 'DELETE', `/v1/releases/${encodeURIComponent(version)}`)).body as { version: string; removed: number };
      process.stdout.write(`deleted release ${r.version} (${r.removed} executable${r.removed === 1 ? '' : 's'})\n`);
    }),
  );
}
