// Builds the harness's Kubernetes binaries from their Go modules into the cache, once.
// A component is rebuilt only when its wrapper module (go.mod, go.sum, sources) or its stamp
// changes, so a warm run returns in well under a second. Usage: node test/k8s/build.ts [--force]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPONENTS, type Component } from './components.ts';
import { binDir, MODULES_DIR } from './paths.ts';

const GO_ENV = { GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=readonly -buildvcs=false' };

/** Cache key of a component: its module files plus the exact ldflags and package list. */
export function componentKey(c: Component, goVersion: string): string {
  const h = createHash('sha256');
  const dir = join(MODULES_DIR, c.module);
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  h.update(JSON.stringify([c.packages, c.binaries, c.ldflags, goVersion]));
  return h.digest('hex').slice(0, 16);
}

function stampPath(c: Component, out: string): string {
  return join(out, `.${c.module}.stamp`);
}

/** `out`: the bin directory (the harness's version by default; the upgrade test's older one too). */
export function isBuilt(c: Component, goVersion: string, out: string = binDir()): boolean {
  const stamp = stampPath(c, out);
  if (!existsSync(stamp)) return false;
  if (readFileSync(stamp, 'utf8').trim() !== componentKey(c, goVersion)) return false;
  return c.binaries.every((b) => existsSync(join(out, b)));
}

function run(cmd: string, args: string[], cwd: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...GO_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const collect = (b: Buffer): void => {
      tail = (tail + b.toString()).slice(-8000);
      for (const line of b.toString().split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}) in ${cwd}:\n${tail}`))));
  });
}

export async function goVersion(): Promise<string> {
  let out = '';
  await run('go', ['env', 'GOVERSION'], MODULES_DIR, (l) => (out = l.trim()));
  return out;
}

/** A one-line progress display on a terminal; plain start/finish lines elsewhere (CI logs). */
function progress(label: string): { note(line: string): void; done(): void } {
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  let last = '';
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  const timer = tty
    ? setInterval(() => process.stderr.write(`\r\x1b[K  building ${label} … ${elapsed()} ${last.slice(0, 60)}`), 500)
    : undefined;
  if (!tty) process.stderr.write(`k8s harness: building ${label}\n`);
  return {
    note(line) {
      last = line;
    },
    done() {
      if (timer) clearInterval(timer);
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}k8s harness: built ${label} in ${elapsed()}\n`);
    },
  };
}

export async function buildComponent(c: Component, gover: string, out: string = binDir()): Promise<void> {
  const tmp = join(out, `.tmp-${c.module}`);
  mkdirSync(tmp, { recursive: true });
  const p = progress(`${c.module} (${c.binaries.join(', ')})`);
  const ldflags = ['-s', '-w', ...c.ldflags.map((x) => `-X ${x}`)].join(' ');
  try {
    // `go build -o DIR/` with several packages writes one binary per package, named after it.
    const dest = c.packages.length > 1 ? `${tmp}/` : join(tmp, c.binaries[0] ?? c.module);
    await run('go', ['build', '-trimpath', '-tags', 'selinux,notest', '-ldflags', ldflags, '-o', dest, ...c.packages], join(MODULES_DIR, c.module), p.note);
  } finally {
    p.done();
  }
  // Move into place only after the whole build succeeded, so a half build never looks finished.
  for (const b of c.binaries) renameSync(join(tmp, b), join(out, b));
  writeFileSync(stampPath(c, out), componentKey(c, gover) + '\n');
}

/** Builds whatever is missing or stale; returns the bin directory. */
export async function ensureBinaries(opts: { force?: boolean } = {}): Promise<string> {
  mkdirSync(binDir(), { recursive: true });
  const gover = await goVersion();
  for (const c of COMPONENTS) {
    if (!opts.force && isBuilt(c, gover)) continue;
    await buildComponent(c, gover);
  }
  return binDir();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  ensureBinaries({ force: process.argv.includes('--force') }).then(
    (dir) => process.stderr.write(`k8s harness: binaries ready in ${dir} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`),
    (err: unknown) => {
      process.stderr.write(`k8s harness: build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
