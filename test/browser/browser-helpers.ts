// Chromium for the dashboard tests: Debian's `chromium` (.ci/apt-packages.txt) driven by
// puppeteer-core, trusting exactly the test server's certificate (its public key pinned with
// --ignore-certificate-errors-spki-list, not every certificate), plus screenshots, axe-core and a
// keyboard walk.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));

/** DROVER_CHROMIUM, else Debian's chromium. */
export function chromiumPath(): string {
  const p = process.env.DROVER_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(p)) throw new Error(`no Chromium at ${p}: apt-get install chromium (listed in .ci/apt-packages.txt) or set DROVER_CHROMIUM`);
  return p;
}

/** base64(sha256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium's SPKI list takes it. */
export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export async function launch(serverCertPem: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--ignore-certificate-errors-spki-list=${spkiHash(serverCertPem)}`],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's WCAG 2 A/AA rules on the current page (evaluated over CDP, which the CSP does not block). */
export async function axe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  // Browser-side code as text: the project's TypeScript has no DOM library.
  return (await page.evaluate(`(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  })()`)) as AxeViolation[];
}

export interface Focused {
  tag: string;
  name: string;
}

/** Presses Tab up to `count` times from the top of the page and records what got focus and its accessible name (stops at the end of the page). */
export async function tabWalk(page: Page, count: number): Promise<Focused[]> {
  await page.evaluate(`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);`);
  const out: Focused[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    out.push((await page.evaluate(`(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return { tag: 'body', name: '' };
      const labelled = e.id ? document.querySelector('label[for="' + e.id + '"]') : null;
      const name = e.getAttribute('aria-label') || (labelled && labelled.textContent) || (e.closest('label') && e.closest('label').textContent) || e.textContent || '';
      return { tag: e.tagName.toLowerCase(), name: name.replace(/\\s+/g, ' ').trim() };
    })()`)) as Focused);
    if (out.at(-1)?.tag === 'body') break;
  }
  return out;
}

/** Every input, select and textarea that is not hidden has a label (for=, wrapping, or aria-label). */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return (await page.evaluate(`[...document.querySelectorAll('input, select, textarea')]
    .filter((e) => e.type !== 'hidden')
    .filter((e) => !(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.closest('label') && !e.getAttribute('aria-label'))
    .map((e) => e.outerHTML.slice(0, 120))`)) as string[];
}

/**
 * A temp dir and a list of things to stop, undone at teardown in reverse order (browser, agents,
 * server, control plane…), each failure only commented, then the dir removed.
 */
export function teardownInOrder(t: { teardown(fn: () => unknown): void; comment(msg: string): void }, prefix: string): { dir: string; stops: (() => Promise<unknown> | unknown)[] } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const stops: (() => Promise<unknown> | unknown)[] = [];
  t.teardown(async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        t.comment(`teardown: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  return { dir, stops };
}
