// Smoke test of the protocol benchmark's pure helpers (bench/): percentiles, open-loop pacing,
// the sink framing, budget verdicts and the report layout. The benchmark itself is not a test and
// never runs under tap; these checks keep its arithmetic honest.
import t from 'tap';
import fc from 'fast-check';
import { median, mibPerSecond, percentile, summarize } from '../../bench/lib/stats.ts';
import { dueCount, runOpenLoop, scheduledAtMs, totalRequests } from '../../bench/lib/pacing.ts';
import { HeaderReader, SinkCounter, encodeHeader, pieces } from '../../bench/lib/sink.ts';
import { checks, overheadAtMost, ratioAtLeast } from '../../bench/lib/verdicts.ts';
import { formatComparison, formatCpu, formatValue, renderTable } from '../../bench/lib/format.ts';
import { buildRows } from '../../bench/lib/rows.ts';
import type { Results } from '../../bench/lib/rows.ts';
import { busyWarning } from '../../bench/lib/machine.ts';
import { cpuMsPerGiB, parseStatCpuMs } from '../../bench/lib/cpu.ts';
import { QUICK } from '../../bench/config.ts';

t.test('bench stats: nearest-rank percentiles of 1..100 are the ranks themselves', async (t) => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(xs, 50), 50);
  t.equal(percentile(xs, 99), 99);
  t.equal(percentile(xs, 100), 100);
  t.equal(percentile(xs, 0), 1);
  t.ok(Number.isNaN(percentile([], 50)), 'no samples gives NaN, never a fake zero');
  t.throws(() => percentile(xs, 101));
  const s = summarize([5, 1, 4, 2, 3]);
  t.same([s.count, s.p50, s.max], [5, 3, 5], 'summarize sorts a copy');
  t.equal(median([3, 1, 2]), 2);
  t.equal(mibPerSecond(1024 * 1024, 1000), 1);
});

t.test('bench stats: a percentile is a sample, monotonic in p, between min and max', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, min: 0, max: 1e6 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 99 }), (xs, p) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const a = percentile(sorted, p);
      const b = percentile(sorted, p + 1);
      return sorted.includes(a) && a <= b && a >= sorted[0]! && b <= sorted[sorted.length - 1]!;
    }),
  );
});

t.test('bench pacing: the schedule is open loop, request i due at i/rate', async (t) => {
  t.equal(scheduledAtMs(2000, 2000), 1000);
  t.equal(totalRequests(5000, 2000), 10_000);
  t.equal(dueCount(-1, 2000, 10), 0);
  t.equal(dueCount(0, 2000, 10), 1, 'the first request leaves at once');
  t.equal(dueCount(1, 2000, 10), 3);
  t.equal(dueCount(1e9, 2000, 10), 10, 'never more than the run holds');
});

t.test('bench pacing: a stalled tick sends the backlog at once instead of lowering the rate', async (t) => {
  let now = 0;
  const fired: { i: number; lag: number }[] = [];
  // Ticks advance the fake clock by 1 ms, except one 10 ms stall (a slow response's GC, say).
  const steps = [1, 1, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
  const sent = await runOpenLoop({
    ratePerSecond: 2000,
    durationMs: 10,
    now: () => now,
    fire: (i, lag) => fired.push({ i, lag }),
    tick: (resume) => {
      now += steps.shift() ?? 1;
      resume();
    },
  });
  t.equal(sent, 20);
  t.same(
    fired.map((f) => f.i),
    Array.from({ length: 20 }, (_, i) => i),
    'every request fires once, in order',
  );
  t.ok(fired.some((f) => f.lag >= 5), 'requests delayed by the stall report their lag');
  t.equal(fired[0]?.lag, 0);
});

t.test('bench sink: the count is read however the bytes are split', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5000 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 50 }), (total, cuts) => {
      const wire = Buffer.concat([encodeHeader(total), Buffer.alloc(total, 1)]);
      const sink = new SinkCounter();
      let done = false;
      let off = 0;
      for (let i = 0; off < wire.length; i++) {
        const n = cuts[i % cuts.length]!;
        done = sink.feed(wire.subarray(off, off + n));
        off += n;
      }
      return done && sink.expected === total && sink.received === total;
    }),
  );
  const h = new HeaderReader();
  t.equal(h.feed(encodeHeader(7).subarray(0, 3)).length, 0);
  t.equal(h.value, -1, 'incomplete header is not a count');
  t.same([...pieces(10, 4)], [4, 4, 2]);
});

t.test('bench verdicts: budgets pass at the edge, miss beyond it, and NaN is never a pass', async (t) => {
  t.equal(checks.oneStreamVsWs(90, 100).verdict, 'PASS');
  t.equal(checks.oneStreamVsWs(89, 100).verdict, 'MISS');
  t.equal(checks.p50Overhead(0.45, 0.25).verdict, 'PASS');
  t.equal(checks.p50Overhead(0.46, 0.25).verdict, 'MISS');
  t.equal(checks.stalledChange(2, 1).verdict, 'MISS', 'the stalled budget is strict: < 1 ms');
  t.equal(checks.stalledChange(1.9, 1).verdict, 'PASS');
  t.equal(checks.vsRemotedialer(Number.NaN, 100).verdict, 'N/A');
  t.equal(ratioAtLeast(1, 0, 1, 'x').verdict, 'N/A', 'a zero baseline cannot be divided by');
  t.ok(Math.abs(overheadAtMost(1.5, 1, 1, 'x').margin - 0.5) < 1e-9);
});

t.test('bench format: ratios for throughput, signed deltas for latency', async (t) => {
  t.equal(formatValue(Number.NaN, 'ms'), 'n/a');
  t.equal(formatValue(0.1234, 'ms'), '0.123 ms');
  t.equal(formatComparison({ figure: 'x', value: 50, unit: 'MiB/s', baseline: 100 }), '0.50×');
  t.equal(formatComparison({ figure: 'x', value: 0.3, unit: 'ms', baseline: 0.1 }), '+0.200 ms');
  t.equal(formatComparison({ figure: 'x', value: 0.1, unit: 'ms', baseline: 0.3 }), '-0.200 ms');
  t.equal(busyWarning(2, 0.2, 0.9), undefined);
  t.equal(busyWarning(2, 0.9, 2.9), undefined, "the run's own two processes are allowed for at the end");
  t.match(busyWarning(2, 3, 0.2) ?? '', /unreliable/);
  t.match(busyWarning(2, 0.2, 3.5) ?? '', /unreliable/);
});

t.test('bench report: without a tunnel every tunnel figure says why and no budget passes', async (t) => {
  const tp = { bytes: 1, streams: 1, ms: 1, mibPerSecond: 100 };
  const lat = {
    ratePerSecond: 2000,
    requests: 10,
    errors: 0,
    latencyMs: { count: 10, p50: 0.2, p90: 0.3, p99: 0.5, max: 1 },
    dispatchLagMs: { count: 10, p50: 0, p90: 0, p99: 0, max: 0 },
  };
  const results: Results = {
    machine: { cpu: 'cpu', cores: 2, memoryGiB: 1, kernel: 'k', node: 'v24', go: 'go', loadAtStart: 0 },
    loadAtEnd: 0,
    config: QUICK,
    tunnel: 'protocol not loadable yet',
    streamErrors: { count: 0, first: [] },
    throughput: { tcpUp: tp, tcpDown: tp, wsServerToClient: tp, wsClientToServer: tp, tcp100: tp },
    latency: { direct: lat },
    remotedialer: { error: 'skipped' },
  };
  const rows = buildRows(results);
  const checked = rows.filter((r) => r.check !== undefined);
  t.ok(checked.length >= 6, 'every budget of issue 3 has a row');
  t.ok(checked.every((r) => r.check?.verdict === 'N/A'));
  t.ok(rows.filter((r) => r.figure.startsWith('tunnel')).every((r) => r.note?.includes('not yet measurable')));
  const table = renderTable(rows);
  t.match(table, /^figure\s+value\s+baseline \(same run\)/);
  t.match(table, /raw ws, server→client frames\s+100\.0 MiB\/s\s+TCP 100\.0 MiB\/s\s+1\.00×/);
});

t.test('bench cpu: utime and stime are read past a command name holding spaces and parentheses', async (t) => {
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0';
  t.equal(parseStatCpuMs(stat), 3000, '(250 + 50) ticks at 100 Hz');
  t.equal(cpuMsPerGiB(512, 2 ** 29), 1024);
  t.equal(formatCpu({ figure: 'x', value: 1, unit: 'MiB/s', cpuMsPerGiB: 1500, baselineCpuMsPerGiB: 1000 }), '1500 (1.50×)');
  t.equal(formatCpu({ figure: 'x', value: 1, unit: 'MiB/s' }), '');
});
