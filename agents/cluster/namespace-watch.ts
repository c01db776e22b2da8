// Watches the cluster's namespaces for the RBAC sync, so a namespace created after the last RBAC
// push (by an owner, or by a member, who may create namespaces) gets its members' RoleBindings
// within moments instead of at the next push. Runs only while the set holds RoleBinding templates.
// On any failure it relists (the caller's full sync, which returns the list's resourceVersion)
// after a jittered exponential backoff; a 410 Gone relists at once.
import https from 'node:https';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../protocol/index.ts';
import { backoffDelay, type BackoffOptions } from '../common/backoff.ts';
import type { KubeUpstream } from './kube-upstream.ts';
import { namespaceInfo, type NamespaceInfo } from './rbac-set.ts';

const BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 30_000, stableAfterMs: 60_000, maxExponent: 5 };
/** A watch line longer than this is not a namespace event (namespaces are small). */
const MAX_LINE = 1024 * 1024;

export interface NamespaceWatchDeps {
  kube: KubeUpstream;
  log: Logger;
  /** Full sync; resolves to the resourceVersion of the namespace list it read. */
  relist: () => Promise<string>;
  /** A namespace was added or changed. */
  changed: (ns: NamespaceInfo) => void;
  clock?: Clock;
}

export class NamespaceWatch {
  readonly #deps: NamespaceWatchDeps;
  readonly #clock: Clock;
  #running = false;
  #req: ReturnType<typeof https.request> | undefined;
  #timer: TimerHandle | undefined;
  #attempt = 0;
  /** Bumped by stop(): a relist or response from an earlier run never starts a second watch. */
  #generation = 0;

  constructor(deps: NamespaceWatchDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? systemClock;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts watching from `resourceVersion` (the list the caller just synced from). */
  start(resourceVersion: string): void {
    if (this.#running) return;
    this.#running = true;
    this.#watch(resourceVersion);
  }

  stop(): void {
    this.#running = false;
    this.#generation++;
    this.#clock.clearTimeout(this.#timer);
    this.#req?.destroy();
    this.#req = undefined;
  }

  #retry(reason: string, immediately = false): void {
    if (!this.#running) return;
    this.#req?.destroy();
    this.#req = undefined;
    const delay = immediately ? 0 : backoffDelay({ attempt: this.#attempt++ }, BACKOFF, Math.random);
    if (this.#attempt === 1 && !immediately) this.#deps.log.warn({ reason }, 'namespace watch interrupted; relisting');
    this.#clock.clearTimeout(this.#timer);
    const generation = this.#generation;
    this.#timer = this.#clock.setTimeout(() => {
      this.#deps.relist().then(
        (rv) => this.#running && generation === this.#generation && this.#watch(rv),
        (err: Error) => generation === this.#generation && this.#retry(`relist: ${err.message}`),
      );
    }, delay);
  }

  #watch(resourceVersion: string): void {
    if (!this.#running) return;
    const path = `/api/v1/namespaces?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    const req = https.request(this.#deps.kube.options('GET', path, { accept: 'application/json' }, true), (res) => {
      if (res.statusCode === 410) return this.#retry('resourceVersion expired', true);
      if (res.statusCode !== 200) {
        res.resume();
        return this.#retry(`watch answered ${res.statusCode}`);
      }
      let rv = resourceVersion;
      let buffered = '';
      let events = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        if (buffered.length > MAX_LINE && !buffered.includes('\n')) return this.#retry('watch line too long');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!line.trim()) continue;
          let event: { type?: string; object?: { metadata?: { resourceVersion?: string }; code?: number } };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            return this.#retry('unreadable watch event');
          }
          if (event.type === 'ERROR') return this.#retry(`watch error ${event.object?.code ?? ''}`, event.object?.code === 410);
          this.#attempt = 0;
          events++;
          rv = event.object?.metadata?.resourceVersion ?? rv;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') {
            const ns = namespaceInfo(event.object);
            if (ns) this.#deps.changed(ns);
          }
        }
      });
      // The apiserver ends watches after its request timeout: carry on from the last version seen.
      // A watch that ended without a single event (something in between closing it) backs off.
      res.on('end', () => {
        if (!this.#running || this.#req !== req) return;
        if (events === 0) this.#retry('the watch ended without an event');
        else this.#watch(rv);
      });
      res.on('error', (err) => this.#req === req && this.#retry(err.message));
    });
    req.on('error', (err) => this.#req === req && this.#retry(err.message));
    req.on('socket', (s) => s.unref());
    req.end();
    this.#req = req;
  }
}
