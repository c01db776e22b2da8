// Pushed directories: deterministic packing, validated all-or-nothing extraction (no traversal).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { extractSource, listSourceFiles, packSource } from './source-archive.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-fleet-src-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const files = { 'fleet.yaml': 'defaultNamespace: web\n', 'b/deploy.yaml': 'kind: Deployment\n', 'a.yaml': 'kind: ConfigMap\n', '.git/HEAD': 'ref: x\n' };

t.test('source archive: a directory round-trips without .git, and packing is deterministic', async (t) => {
  const dir = tree(files);
  const out = mkdtempSync(join(tmpdir(), 'drover-fleet-out-'));
  t.teardown(() => [dir, out].forEach((d) => rmSync(d, { recursive: true, force: true })));
  t.same(await listSourceFiles(dir), ['a.yaml', 'b/deploy.yaml', 'fleet.yaml']);
  const a = await packSource(dir);
  const b = await packSource(dir);
  t.ok(a.equals(b), 'same directory, same bytes');
  t.same(await extractSource(a, out), { files: 3, bytes: 55 });
  t.equal(readFileSync(join(out, 'b/deploy.yaml'), 'utf8'), 'kind: Deployment\n');
  t.notOk(existsSync(join(out, '.git')));
});

t.test('source archive: a symlink in the pushed directory is refused when packing', async (t) => {
  const dir = tree(files);
  symlinkSync('/etc/passwd', join(dir, 'passwd.yaml'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(packSource(dir), { code: 'SOURCE_ARCHIVE_INVALID', message: /passwd\.yaml/ });
});

t.test('source archive: entries with .., absolute paths or symlinks are refused and nothing is extracted', async (t) => {
  const work = tree({ 'sub/ok.yaml': 'a: 1\n', 'outside.yaml': 'b: 2\n' });
  symlinkSync('/etc', join(work, 'sub', 'etc-link'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const make = (name: string, ...args: string[]) => {
    execFileSync('tar', ['-czf', join(work, name), '-P', ...args], { cwd: join(work, 'sub') });
    return readFileSync(join(work, name));
  };
  const cases: [string, Buffer, RegExp][] = [
    ['dotdot', make('dotdot.tgz', 'ok.yaml', '../outside.yaml'), /climbs out/],
    ['absolute', make('abs.tgz', 'ok.yaml', join(work, 'outside.yaml')), /absolute path/],
    ['symlink', make('link.tgz', 'ok.yaml', 'etc-link'), /is a SymbolicLink/],
  ];
  for (const [name, archive, why] of cases) {
    const dest = mkdtempSync(join(tmpdir(), 'drover-fleet-out-'));
    await t.rejects(extractSource(archive, dest), { code: 'SOURCE_ARCHIVE_INVALID', message: why }, name);
    t.notOk(existsSync(join(dest, 'ok.yaml')), `${name}: not even the good entry was extracted`);
    rmSync(dest, { recursive: true, force: true });
  }
  await t.rejects(extractSource(Buffer.from('not a tarball at all'), work), { code: 'SOURCE_ARCHIVE_INVALID' });
});
