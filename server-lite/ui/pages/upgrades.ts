// /ui/upgrades (admins, as GET /v1/releases and GET /v1/upgrades, issue 16): the imported signed
// releases, and the latest agent upgrade rollout with its progress per agent (state, download
// progress, from which version, canary or not). It reads the upgrade service the API handlers
// call, so it shows what `drover release list` and `drover upgrade status` print. Rollouts are
// started with the CLI (`drover upgrade agents --version V`); the page has no buttons.
import { html } from '../html.ts';
import { liveUrl, type Page } from '../layout.ts';
import { progressBar, stackedBar, type Segment } from '../svg.ts';
import { badge, stateClass, when } from '../format.ts';
import type { UiDeps } from './deps.ts';
import { ServerError } from '../../errors.ts';
import { ReleaseApiError } from '../../upgrades/errors.ts';
import type { UpgradeStatusView } from '../../upgrades/upgrade-service.ts';

const STATES: [keyof UpgradeStatusView['summary'], string][] = [
  ['succeeded', 'Succeeded'], ['restarting', 'Restarting'], ['staged', 'Staged'], ['downloading', 'Downloading'], ['pending', 'Pending'],
  ['failed', 'Failed'], ['rolledBack', 'RolledBack'], ['offline', 'Offline'],
];

export const upgradeSegments = (s: UpgradeStatusView['summary']): Segment[] => STATES.map(([k, state]) => ({ label: state, value: s[k], cls: stateClass(state) }));
export const upgradeSummaryText = (s: UpgradeStatusView['summary']): string => STATES.filter(([k]) => s[k] > 0).map(([k, state]) => `${s[k]} ${state}`).join(', ') || 'no agents targeted';

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

export async function upgradesPage(deps: UiDeps): Promise<Page> {
  const upgrades = deps.upgrades;
  if (!upgrades) throw new ServerError('NOT_FOUND', 'agent upgrades are not served by this server');
  const now = deps.ctx.clock.now();
  const releases = await upgrades.releases.list();
  let rollout: UpgradeStatusView | undefined;
  try {
    rollout = await upgrades.status();
  } catch (err) {
    if (!(err instanceof ReleaseApiError) || err.code !== 'UPGRADE_NOT_FOUND') throw err;
  }
  const total = rollout ? rollout.agents.length : 0;
  const rolloutSection = rollout
    ? html`<section class="card" aria-labelledby="roll-h" data-testid="rollout" data-state="${rollout.state}"><h2 id="roll-h">Latest rollout: version ${rollout.version}</h2>
      <dl class="facts"><dt>State</dt><dd>${badge(rollout.state)}${rollout.message ? html` <span class="muted">${rollout.message}</span>` : ''}</dd>
      <dt>Target</dt><dd class="mono">${rollout.target || 'every agent'}</dd><dt>Max unavailable</dt><dd>${rollout.maxUnavailable}</dd>
      <dt>Canary</dt><dd>${rollout.canary}</dd><dt>Started</dt><dd>${when(rollout.createdAt, now)}</dd></dl>
      ${stackedBar(`Upgrade to ${rollout.version}, agents by state`, upgradeSegments(rollout.summary))}
      <p>${progressBar('Succeeded', rollout.summary.succeeded, total)} <span class="muted">${upgradeSummaryText(rollout.summary)}</span></p></section>
    <h2>Agents</h2>
    <table><thead><tr><th scope="col">Agent</th><th scope="col">Cluster</th><th scope="col">State</th><th scope="col">Version</th><th scope="col">Download</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
    <tbody>${rollout.agents.length === 0 ? html`<tr><td colspan="7" class="muted">No agent matches the target.</td></tr>` : rollout.agents.map((a) => html`<tr data-agent="${a.id}" data-state="${a.state}">
      <td>${a.hostname || a.id}${a.canary ? html` <span class="label">canary</span>` : ''}<div class="muted mono">${a.id}</div></td><td>${a.cluster}</td><td>${badge(a.state)}</td>
      <td>${a.fromVersion ?? '?'} → ${rollout.version}${a.version && a.version !== a.fromVersion ? html` <span class="muted">(reports ${a.version})</span>` : ''}</td>
      <td>${a.total > 0 ? progressBar(`${a.hostname || a.id} download`, Math.round(a.bytes / 2 ** 20), Math.round(a.total / 2 ** 20)) : html`<span class="muted">-</span>`}</td>
      <td>${a.message}</td><td>${when(a.since, now)}</td></tr>`)}</tbody></table>`
    : html`<p class="muted" data-testid="no-rollout">No agent upgrade has been started (drover upgrade agents --version V).</p>`;
  const main = html`<h1>Agent upgrades</h1>
  ${rolloutSection}
  <h2>Releases</h2>
  <table><thead><tr><th scope="col">Version</th><th scope="col">Architecture</th><th scope="col">Artifact</th><th scope="col">Size</th><th scope="col">SHA-256</th><th scope="col">Imported</th></tr></thead>
  <tbody>${releases.length === 0 ? html`<tr><td colspan="6" class="muted">No release imported (drover release import DIR).</td></tr>` : releases.map((r) => html`<tr data-release="${r.version}/${r.arch}">
    <td>${r.version}</td><td>${r.arch}</td><td class="mono">${r.artifact}</td><td class="num">${mib(r.size)}</td><td class="mono">${r.sha256.slice(0, 16)}</td><td>${when(r.importedAt, now)}</td></tr>`)}</tbody></table>`;
  return { title: 'Agent upgrades', nav: 'upgrades', main, live: liveUrl('/ui/upgrades') };
}
