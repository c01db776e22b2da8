// Which server URLs an agent dials, in order (pure; issue 18, `drover server set-url`): the current
// URL first; during a URL change's overlap, the previous URL after it, until the overlap ends. The
// tunnel client tries them in this order on every dial and reports the one it uses.
import type { Identity } from './store.ts';

export function serverCandidates(id: Pick<Identity, 'serverUrl' | 'fallbackUrl' | 'fallbackUntil'>, nowMs: number): string[] {
  const out = [id.serverUrl];
  const until = id.fallbackUntil ? Date.parse(id.fallbackUntil) : Number.NaN;
  if (id.fallbackUrl && id.fallbackUrl !== id.serverUrl && Number.isFinite(until) && nowMs < until) out.push(id.fallbackUrl);
  return out;
}
