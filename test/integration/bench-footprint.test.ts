// The footprint benchmark's pure readers (bench/footprint/): /proc memory fields, per-mapping
// resident sizes and a unit's Environment= lines. The benchmark itself never runs under tap; these
// keep its arithmetic honest.
import t from 'tap';
import { parseProcMemory, parseSmapsByMapping, sumMemory } from '../../bench/footprint/proc-memory.ts';
import { parseUnitEnvironment } from '../../bench/footprint/unit-env.ts';

const STATUS = 'Name:\tdrover\nVmHWM:\t   80000 kB\nVmRSS:\t   66000 kB\nRssAnon:\t   20000 kB\nRssFile:\t   46000 kB\nRssShmem:\t       0 kB\n';
const ROLLUP = '00400000-7ffd0000 ---p 00000000 00:00 0 [rollup]\nRss:               66000 kB\nPss:               62000 kB\nPss_Dirty:         20000 kB\nPss_Anon:          20000 kB\nPss_File:          42000 kB\nPss_Shmem:             0 kB\n';

t.test('footprint: /proc status and smaps_rollup give RSS, PSS, anonymous and file pages in bytes', async (t) => {
  const m = parseProcMemory(STATUS, ROLLUP);
  t.same(m, { rss: 66000 * 1024, pss: 62000 * 1024, pssAnon: 20000 * 1024, pssFile: 42000 * 1024, rssAnon: 20000 * 1024, rssFile: 46000 * 1024, hwm: 80000 * 1024 });
  t.equal(sumMemory([m, m]).pss, 2 * 62000 * 1024, 'three role processes are summed field by field');
  t.throws(() => parseProcMemory('VmRSS: 1 kB\n', ROLLUP), /RssAnon/, 'a missing field is an error, never a zero');
});

t.test('footprint: smaps resident sizes are grouped by file and permissions, anonymous maps together', async (t) => {
  const smaps = [
    '00400000-00500000 r--p 00000000 08:01 12 /usr/local/bin/drover',
    'Rss:                1024 kB',
    '00600000-00700000 r-xp 00100000 08:01 12 /usr/local/bin/drover',
    'Rss:                2048 kB',
    '00800000-00900000 r--p 00300000 08:01 12 /usr/local/bin/drover',
    'Rss:                 512 kB',
    '7f000000-7f100000 rw-p 00000000 00:00 0 ',
    'Rss:                 100 kB',
    '7f200000-7f300000 rw-p 00000000 00:00 0 [heap]',
    'Rss:                  50 kB',
  ].join('\n');
  const m = parseSmapsByMapping(smaps);
  t.equal(m.get('/usr/local/bin/drover r--p'), 1536 * 1024);
  t.equal(m.get('/usr/local/bin/drover r-xp'), 2048 * 1024);
  t.equal(m.get('[anon] rw-p'), 100 * 1024);
  t.equal(m.get('[heap] rw-p'), 50 * 1024);
});

t.test('footprint: Environment= lines of a unit, quoted and several per line', async (t) => {
  const unit = '[Service]\nEnvironment=GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384\nEnvironment="A=two words" B=1\nEnvironmentFile=-/etc/drover/agent.env\n';
  t.same(parseUnitEnvironment(unit), { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=16384', A: 'two words', B: '1' });
});
