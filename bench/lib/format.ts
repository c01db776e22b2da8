// Turns the benchmark's rows into the aligned text report (and leaves JSON to the caller).
// Pure: rows in, string out, so the smoke test can pin the layout.

import type { Check } from './verdicts.ts';

export type Unit = 'MiB/s' | 'ms';

export interface Row {
  readonly figure: string;
  readonly value: number;
  readonly unit: Unit;
  readonly baselineName?: string;
  readonly baseline?: number;
  readonly check?: Check;
  /** CPU of both ends per GiB moved, and the same for the baseline (throughput rows). */
  readonly cpuMsPerGiB?: number;
  readonly baselineCpuMsPerGiB?: number;
  /** Why a figure is missing or what to keep in mind when reading it. */
  readonly note?: string;
}

/** A number for humans: NaN prints as "n/a", small ms keep three decimals, MiB/s one. */
export function formatValue(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  return unit === 'ms' ? `${value.toFixed(3)} ms` : `${value.toFixed(1)} MiB/s`;
}

/** Figure ÷ baseline for throughput, figure − baseline for latency (what the budgets use). */
export function formatComparison(row: Row): string {
  if (row.baseline === undefined || !Number.isFinite(row.baseline) || !Number.isFinite(row.value)) return '';
  if (row.unit === 'MiB/s') return row.baseline > 0 ? `${(row.value / row.baseline).toFixed(2)}×` : '';
  const d = row.value - row.baseline;
  return `${d >= 0 ? '+' : ''}${d.toFixed(3)} ms`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** CPU per GiB, with its ratio to the baseline's when both are known: "1234 (1.52×)". */
export function formatCpu(row: Row): string {
  const c = row.cpuMsPerGiB;
  if (c === undefined || !Number.isFinite(c)) return '';
  const b = row.baselineCpuMsPerGiB;
  return b !== undefined && Number.isFinite(b) && b > 0 ? `${c.toFixed(0)} (${(c / b).toFixed(2)}×)` : c.toFixed(0);
}

/** One line per row, columns aligned: figure, value, baseline, ratio/delta, CPU, budget, verdict. */
export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.figure,
    formatValue(r.value, r.unit),
    r.baselineName === undefined ? '' : `${r.baselineName} ${formatValue(r.baseline ?? Number.NaN, r.unit)}`,
    formatComparison(r),
    formatCpu(r),
    r.check?.budget ?? '',
    r.check?.verdict ?? '',
  ]);
  const header = ['figure', 'value', 'baseline (same run)', 'ratio/delta', 'CPU ms/GiB', 'budget', 'verdict'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string => c.map((x, i) => pad(x, widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w)))];
  rows.forEach((r, i) => {
    out.push(line(cells[i] ?? []));
    if (r.note !== undefined) out.push(`    ↳ ${r.note}`);
  });
  return out.join('\n');
}
