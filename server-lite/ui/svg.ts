// Pictures drawn by the server as inline SVG (pure): a stacked bar of counts per state (cluster
// states, bundle readiness across clusters) and a progress bar (a rollout's Ready share). No
// script and no inline style (the Content-Security-Policy allows neither): colours come from CSS
// classes in assets.ts; every picture carries a text alternative, and the numbers stay in the page.
import { html, type Html } from './html.ts';

export interface Segment {
  label: string;
  value: number;
  /** CSS class giving the colour (`st-ready`, `st-offline`…). */
  cls: string;
}

const pct = (n: number): string => `${(Math.round(n * 10000) / 100).toString()}%`;

/** One horizontal bar split by share; empty segments are left out. */
export function stackedBar(title: string, segments: readonly Segment[], opts: { height?: number } = {}): Html {
  const total = segments.reduce((s, x) => s + Math.max(0, x.value), 0);
  const height = opts.height ?? 18;
  const alt = `${title}: ${total === 0 ? 'none' : segments.filter((s) => s.value > 0).map((s) => `${s.value} ${s.label}`).join(', ')}`;
  let x = 0;
  const rects = segments
    .filter((s) => s.value > 0)
    .map((s) => {
      const w = s.value / total;
      const r = html`<rect class="${s.cls}" x="${pct(x)}" y="0" width="${pct(w)}" height="${height}"><title>${s.value} ${s.label}</title></rect>`;
      x += w;
      return r;
    });
  return html`<svg class="bar" role="img" aria-label="${alt}" width="100%" height="${height}" preserveAspectRatio="none">${total === 0 ? html`<rect class="st-none" x="0" y="0" width="100%" height="${height}"></rect>` : rects}</svg>`;
}

/** done of total as a bar with its fraction written beside it. */
export function progressBar(title: string, done: number, total: number): Html {
  const share = total <= 0 ? 0 : Math.min(1, Math.max(0, done / total));
  return html`<span class="progress"><svg role="img" aria-label="${title}: ${done} of ${total}" width="120" height="12"><rect class="st-none" x="0" y="0" width="120" height="12"></rect><rect class="st-ready" x="0" y="0" width="${Math.round(share * 120)}" height="12"></rect></svg> ${done}/${total}</span>`;
}

const MIN_COLUMNS = 60;

/**
 * One stacked column per sample (newest at the right), heights by share of that sample's total;
 * at least MIN_COLUMNS wide, so a short history is a narrow strip, not one column filling the chart.
 */
export function historyChart(title: string, samples: readonly { at: number; segments: readonly Segment[] }[]): Html {
  const n = samples.length;
  const width = Math.max(n, MIN_COLUMNS);
  const offset = width - n;
  const cols = samples.map((s, i) => {
    const total = s.segments.reduce((sum, x) => sum + Math.max(0, x.value), 0);
    let y = 100;
    return s.segments
      .filter((x) => x.value > 0 && total > 0)
      .map((x) => {
        const h = (x.value / total) * 100;
        y -= h;
        return html`<rect class="${x.cls}" x="${offset + i}" y="${Math.round(y * 100) / 100}" width="1" height="${Math.round(h * 100) / 100}"></rect>`;
      });
  });
  const last = samples.at(-1);
  const alt = last ? `${title}: ${n} samples from ${new Date(samples[0]?.at ?? 0).toISOString()} to ${new Date(last.at).toISOString()}; now ${last.segments.map((s) => `${s.value} ${s.label}`).join(', ')}` : `${title}: no samples yet`;
  return html`<svg class="history" role="img" aria-label="${alt}" width="100%" height="60" viewBox="0 0 ${width} 100" preserveAspectRatio="none">${cols}</svg>`;
}
