// Live pages by server-sent events: GET /ui/events?page=/ui/clusters?… renders that page again
// for the same viewer every LIVE_INTERVAL_MS and sends its main region when it changed (event
// `page`); app.js swaps it in. The session is checked on every tick, so a revoked token or a
// logout ends the stream (event `end`). Bounded: at most MAX_STREAMS open streams per server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { ServerError } from '../errors.ts';
import type { UiDeps } from './pages/deps.ts';
import { renderPage } from './pages/index.ts';
import { viewerOf, type Viewer } from './viewer.ts';

export const LIVE_INTERVAL_MS = 2000;
const HEARTBEAT_EVERY = 10;
const MAX_STREAMS = 200;

/** SSE framing: every line of the payload as its own `data:` line. */
export function sseEvent(name: string, data: string): string {
  return `event: ${name}\n${data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join('\n')}\n\n`;
}

export class LiveEvents {
  readonly #deps: UiDeps;
  readonly #open = new Set<ServerResponse>();

  constructor(deps: UiDeps) {
    this.#deps = deps;
  }

  get open(): number {
    return this.#open.size;
  }

  async handle(viewer: Viewer, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'https://x').searchParams.get('page') ?? '';
    if (!/^\/ui\/[a-z]/.test(target)) throw new ServerError('INVALID_REQUEST', 'page must name a dashboard page, e.g. /ui/clusters');
    const url = new URL(target, 'https://x');
    if (this.#open.size >= MAX_STREAMS) throw new ServerError('OVERLOADED', 'too many live dashboard pages are open; reload later', 10);
    let last = digest((await renderPage(this.#deps, viewer, url)).main.text);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(`retry: ${LIVE_INTERVAL_MS * 2}\n\n`);
    this.#open.add(res);
    let ticks = 0;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        const now = await viewerOf(this.#deps.ctx, req);
        if (!now || this.#deps.ctx.closing) {
          res.end(sseEvent('end', 'session ended'));
          return;
        }
        const page = await renderPage(this.#deps, now, url);
        const d = digest(page.main.text);
        if (d !== last) {
          last = d;
          res.write(sseEvent('page', page.main.text));
        } else if (++ticks % HEARTBEAT_EVERY === 0) res.write(': keep-alive\n\n');
      })()
        .catch((err: unknown) => {
          this.#deps.ctx.log.debug({ err }, 'live dashboard page failed');
          res.end(sseEvent('end', 'page unavailable'));
        })
        .finally(() => {
          busy = false;
        });
    }, LIVE_INTERVAL_MS);
    res.once('close', () => {
      clearInterval(timer);
      this.#open.delete(res);
    });
  }

  closeAll(): void {
    for (const res of this.#open) res.end(sseEvent('end', 'server stopping'));
  }
}

const digest = (text: string): string => createHash('sha256').update(text).digest('base64url');
