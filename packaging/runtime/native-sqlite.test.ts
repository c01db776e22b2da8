// Unit tests for loading the SQLite addon inside the executable: hash-named file, verified before
// dlopen, never in a shared directory. The last test loads the real prebuild through better-sqlite3.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import t from 'tap';
import Database from 'better-sqlite3';
import { PACKAGING_ERRORS } from '../errors.ts';
import { SQLITE_ASSET, SQLITE_HASH_ASSET } from '../targets.ts';
import {
  ensurePrivateDir,
  extractVerified,
  nativeSqliteBinding,
  resetNativeSqliteForTests,
  sha256Hex,
  type NativeSqliteDeps,
} from './native-sqlite.ts';

const uid = process.getuid?.() ?? -1;

/** A private scratch dir outside /tmp (the module refuses temp dirs, by design). */
function scratch(t: { teardown(fn: () => void): void }): string {
  const base = path.join(os.homedir(), '.cache', 'drover', 'test');
  fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = fs.mkdtempSync(path.join(base, 'native-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('native sqlite: writes the addon to a file named by its sha256, mode 0500, in a 0700 dir', async (t) => {
  const bytes = new TextEncoder().encode('not really an addon');
  const dir = path.join(scratch(t), 'native');
  const file = extractVerified(bytes, dir, uid);
  t.equal(path.basename(file), `better_sqlite3-${sha256Hex(bytes)}.node`);
  t.equal(fs.statSync(file).mode & 0o777, 0o500);
  t.equal(fs.statSync(dir).mode & 0o777, 0o700);
  t.same(fs.readFileSync(file), Buffer.from(bytes));
});

t.test('native sqlite: a tampered file with the right name is replaced before use', async (t) => {
  const bytes = new TextEncoder().encode('genuine');
  const dir = path.join(scratch(t), 'native');
  const file = extractVerified(bytes, dir, uid);
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(file, 'evil');
  t.equal(extractVerified(bytes, dir, uid), file);
  t.equal(fs.readFileSync(file, 'utf8'), 'genuine');
});

t.test('native sqlite: a symlink planted under the addon name is replaced, not followed', async (t) => {
  const bytes = new TextEncoder().encode('genuine');
  const root = scratch(t);
  const dir = path.join(root, 'native');
  fs.mkdirSync(dir, { mode: 0o700 });
  const decoy = path.join(root, 'decoy');
  fs.writeFileSync(decoy, 'genuine');
  const file = path.join(dir, `better_sqlite3-${sha256Hex(bytes)}.node`);
  fs.symlinkSync(decoy, file);
  t.equal(extractVerified(bytes, dir, uid), file);
  t.ok(fs.lstatSync(file).isFile());
});

t.test('native sqlite: refuses a world-writable directory with NATIVE_CACHE_DIR_UNSAFE', async (t) => {
  const dir = path.join(scratch(t), 'shared');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o777);
  t.throws(() => ensurePrivateDir(dir, uid), { code: PACKAGING_ERRORS.NATIVE_CACHE_DIR_UNSAFE });
});

t.test('native sqlite: refuses /tmp even when asked explicitly', async (t) => {
  t.throws(() => ensurePrivateDir(path.join(os.tmpdir(), 'drover-native'), uid), {
    code: PACKAGING_ERRORS.NATIVE_CACHE_DIR_UNSAFE,
  });
});

function deps(over: Partial<NativeSqliteDeps>): NativeSqliteDeps {
  return {
    sea: { isSea: () => true, getAsset: () => new ArrayBuffer(0) },
    env: {},
    uid,
    dlopen: (m, f) => process.dlopen(m, f),
    ...over,
  };
}

t.test('native sqlite: outside the executable the binding is undefined (better-sqlite3 finds its own)', async (t) => {
  resetNativeSqliteForTests();
  t.equal(nativeSqliteBinding(deps({ sea: { isSea: () => false, getAsset: () => t.fail('read') as never } })), undefined);
});

t.test('native sqlite: an executable without the asset fails with NATIVE_ADDON_MISSING', async (t) => {
  resetNativeSqliteForTests();
  const sea = {
    isSea: () => true,
    getAsset: (key: string): ArrayBuffer => {
      throw new Error(`no asset ${key}`);
    },
  };
  t.throws(() => nativeSqliteBinding(deps({ sea, env: { DROVER_CACHE_DIR: scratch(t) } })), {
    code: PACKAGING_ERRORS.NATIVE_ADDON_MISSING,
  });
});

t.test('native sqlite: with no usable directory it fails with NATIVE_CACHE_DIR_UNAVAILABLE', async (t) => {
  resetNativeSqliteForTests();
  t.throws(() => nativeSqliteBinding(deps({ env: {}, uid: 1000 })), { code: PACKAGING_ERRORS.NATIVE_CACHE_DIR_UNAVAILABLE });
});

t.test('native sqlite: the real prebuild, extracted and dlopened, serves better-sqlite3 as nativeBinding', async (t) => {
  resetNativeSqliteForTests();
  const require = createRequire(import.meta.url);
  const prebuild = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'prebuilds', `linux-${process.arch}.node`);
  const bytes = fs.readFileSync(prebuild);
  const asset = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const cache = scratch(t);
  const keys: string[] = [];
  const sea = {
    isSea: () => true,
    getAsset: (key: string): ArrayBuffer => {
      keys.push(key);
      return asset;
    },
  };
  const binding = nativeSqliteBinding(deps({ sea, env: { CACHE_DIRECTORY: cache } }));
  t.same(keys, [SQLITE_HASH_ASSET, SQLITE_ASSET], 'an executable without the hash asset reads the addon');
  t.ok(fs.existsSync(path.join(cache, 'native', `better_sqlite3-${sha256Hex(bytes)}.node`)));
  t.equal(nativeSqliteBinding(deps({ sea, env: { CACHE_DIRECTORY: cache } })), binding, 'loaded once per process');
  // @types/better-sqlite3 9 types nativeBinding as a path; version 13 also takes the loaded addon.
  const db = new Database(':memory:', { nativeBinding: binding as unknown as string });
  t.equal((db.prepare('select 6 * 7 as n').get() as { n: number }).n, 42);
  db.close();
});

t.test('native sqlite: with the embedded hash, a start that finds the addon extracted never reads the addon asset', async (t) => {
  const require = createRequire(import.meta.url);
  const prebuild = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'prebuilds', `linux-${process.arch}.node`);
  const bytes = fs.readFileSync(prebuild);
  const hash = new TextEncoder().encode(`${sha256Hex(bytes)}\n`);
  const cache = scratch(t);
  const keys: string[] = [];
  const sea = {
    isSea: () => true,
    getAsset: (key: string): ArrayBuffer => {
      keys.push(key);
      const b = key === SQLITE_HASH_ASSET ? hash : bytes;
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
  resetNativeSqliteForTests();
  nativeSqliteBinding(deps({ sea, env: { CACHE_DIRECTORY: cache } }));
  t.same(keys, [SQLITE_HASH_ASSET, SQLITE_ASSET], 'first start: extracts the addon');
  keys.length = 0;
  resetNativeSqliteForTests();
  t.ok(nativeSqliteBinding(deps({ sea, env: { CACHE_DIRECTORY: cache } })));
  t.same(keys, [SQLITE_HASH_ASSET], 'next start: only the hash is read from the executable');

  // A damaged file under the right name is not loaded: the addon is extracted again. (A fresh
  // directory: rewriting the file this process has dlopened in place would fault it, SIGBUS.)
  const other = scratch(t);
  fs.mkdirSync(path.join(other, 'native'), { mode: 0o700 });
  const file = path.join(other, 'native', `better_sqlite3-${sha256Hex(bytes)}.node`);
  fs.writeFileSync(file, 'damaged', { mode: 0o500 });
  keys.length = 0;
  resetNativeSqliteForTests();
  nativeSqliteBinding(deps({ sea, env: { CACHE_DIRECTORY: other } }));
  t.same(keys, [SQLITE_HASH_ASSET, SQLITE_ASSET]);
  t.same(fs.readFileSync(file), bytes, 'the genuine addon is back');
});
