// Serves `http:drover-facts` (GET /v1/facts): what the server shows in `drover cluster get` —
// Kubernetes version, nodes with capacity, allocatable and conditions, and the most recent Warning
// events — read as the agent itself. Bounded: node and event lists are paged/limited.
import type { IncomingMessage, ServerResponse } from 'node:http';
// The answer's shape is the wire contract (protocol/contracts/facts.ts), which the server parses.
import type { Logger } from 'pino';
import { FACTS_PATH, MAX_FACTS_NODES as MAX_NODES, MAX_FACTS_WARNING_MESSAGE, MAX_FACTS_WARNINGS as MAX_WARNINGS, targetError, type KubeFacts } from '../../protocol/index.ts';
import type { KubeUpstream } from './kube-upstream.ts';

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

export async function collectKubeFacts(kube: KubeUpstream): Promise<KubeFacts> {
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
      message: (e.message ?? '').slice(0, MAX_FACTS_WARNING_MESSAGE),
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
    if (req.method !== 'GET' || req.url !== FACTS_PATH) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(targetError('NOT_FOUND', `GET ${FACTS_PATH} only`)));
      return;
    }
    collectKubeFacts(kube).then(
      (facts) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(facts)),
      (err: Error) => {
        log.debug({ err: err.message }, 'cannot collect Kubernetes facts');
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify(targetError('FACTS_FAILED', err.message)));
      },
    );
  };
}
