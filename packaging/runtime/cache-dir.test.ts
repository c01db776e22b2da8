// Unit tests for where the executable extracts its SQLite addon (issue 7: never /tmp).
import t from 'tap';
import { chooseCacheDir, isTempPath } from './cache-dir.ts';

t.test('cache dir: DROVER_CACHE_DIR wins, then the unit CacheDirectory=, then StateDirectory=', async (t) => {
  t.equal(chooseCacheDir({ DROVER_CACHE_DIR: '/srv/c', CACHE_DIRECTORY: '/var/cache/x' }, 0), '/srv/c');
  t.equal(chooseCacheDir({ CACHE_DIRECTORY: '/var/cache/drover/fleet-agent:/var/cache/other' }, 0), '/var/cache/drover/fleet-agent');
  t.equal(chooseCacheDir({ STATE_DIRECTORY: '/var/lib/drover/agent' }, 0), '/var/lib/drover/agent/cache');
});

t.test('cache dir: root falls back to /var/cache/drover, a user to the XDG cache', async (t) => {
  t.equal(chooseCacheDir({ HOME: '/root' }, 0), '/var/cache/drover');
  t.equal(chooseCacheDir({ HOME: '/home/ann', XDG_CACHE_HOME: '/home/ann/.xdg' }, 1000), '/home/ann/.xdg/drover');
  t.equal(chooseCacheDir({ HOME: '/home/ann' }, 1000), '/home/ann/.cache/drover');
});

t.test('cache dir: relative or missing values are ignored; nothing usable gives undefined', async (t) => {
  t.equal(chooseCacheDir({ DROVER_CACHE_DIR: 'rel', CACHE_DIRECTORY: 'also-rel', HOME: '/' }, 1000), undefined);
  t.equal(chooseCacheDir({}, 1000), undefined);
});

t.test('cache dir: temporary directories are recognised, look-alikes are not', async (t) => {
  for (const p of ['/tmp', '/tmp/x', '/var/tmp/a/b', '/dev/shm/q', '/tmp/../tmp/y']) t.ok(isTempPath(p), p);
  for (const p of ['/tmpfoo', '/var/cache/drover', '/home/tmp']) t.notOk(isTempPath(p), p);
});
