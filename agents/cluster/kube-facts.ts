// Serves `http:drover-facts` (GET /v1/facts): what the server shows in `drover cluster get` —
// Kubernetes version, nodes with capacity, allocatable and conditions, and the most recent Warning
// events — read as the agent itself. Bounded: node and event lists are paged/limited.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { KubeUpstream } from './kube-upstream.ts';

const MAX_NODES = 500;
const MAX_WARNINGS = 20;

interface NodeItem {
  metadata: { name: string; labels?: Record<string, string> };
  status?: {
    capacity?: Record<string, string>;
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
    nodeInfo?: { kubeletVersion?: string; osImage?: string; architecture?: string };
  };
}

interface EventItem {
  metadata: { namespace?: string; name: string };
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string | null;
  eventTime?: string | null;
}

export async function collectKubeFacts(kube: KubeUpstream) {
  const version = await kube.json('GET', '/version');
  const nodes = await kube.json('GET', `/api/v1/nodes?limit=${MAX_NODES}`);
  const events = await kube.json('GET', `/api/v1/events?fieldSelector=${encodeURIComponent('type=Warning')}&limit=500`);
  const nodeItems = ((nodes.body as { items?: NodeItem[] }).items ?? []).map((n) => ({
    name: n.metadata.name,
    kubeletVersion: n.status?.nodeInfo?.kubeletVersion ?? null,
    capacity: n.status?.capacity ?? {},
    allocatable: n.status?.allocatable ?? {},
    conditions: (n.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? null, lastTransitionTime: c.lastTransitionTime ?? null })),
  }));
  const when = (e: EventItem) => e.lastTimestamp ?? e.eventTime ?? '';
  const warnings = ((events.body as { items?: EventItem[] }).items ?? [])
    .sort((a, b) => (when(a) < when(b) ? 1 : when(a) > when(b) ? -1 : 0))
    .slice(0, MAX_WARNINGS)
    .map((e) => ({
      namespace: e.involvedObject?.namespace ?? e.metadata.namespace ?? null,
      object: `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`,
      reason: e.reason ?? null,
      message: (e.message ?? '').slice(0, 512),
      count: e.count ?? 1,
      lastSeen: when(e) || null,
    }));
  return {
    kubernetesVersion: (version.body as { gitVersion?: string }).gitVersion ?? null,
    nodeCount: nodeItems.length,
    nodes: nodeItems,
    warnings,
  };
}

export function factsHandler(kube: KubeUpstream, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    if (req.method !== 'GET' || req.url !== '/v1/facts') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'GET /v1/facts only' } }));
      return;
    }
    collectKubeFacts(kube).then(
      (facts) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(facts)),
      (err: Error) => {
        log.debug({ err: err.message }, 'cannot collect Kubernetes facts');
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'FACTS_FAILED', message: err.message } }));
      },
    );
  };
}
