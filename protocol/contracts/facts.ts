// The Kubernetes facts on `http:drover-facts` (SPEC.md §10.1, docs/api.md): `GET /v1/facts`
// answered by the cluster agent (agents/cluster/kube-facts.ts) and stored by the server for
// `drover cluster get` (server-lite/proxy/kube-facts.ts). Both sides use this schema.
import * as z from 'zod';

export const FACTS_PATH = '/v1/facts';
/** Most nodes listed (the agent pages no further). */
export const MAX_FACTS_NODES = 500;
/** Most recent Warning events listed. */
export const MAX_FACTS_WARNINGS = 20;
/** Longest event message kept. */
export const MAX_FACTS_WARNING_MESSAGE = 512;

const nullableText = z.string().nullable();

export const kubeFactsNodeSchema = z.object({
  name: z.string(),
  kubeletVersion: nullableText,
  capacity: z.record(z.string(), z.string()),
  allocatable: z.record(z.string(), z.string()),
  conditions: z.array(z.object({ type: z.string(), status: z.string(), reason: nullableText, lastTransitionTime: nullableText })),
});

export const kubeFactsWarningSchema = z.object({
  namespace: nullableText,
  /** `Kind/name` of the object the event is about. */
  object: z.string(),
  reason: nullableText,
  message: z.string().max(MAX_FACTS_WARNING_MESSAGE),
  count: z.int().min(0),
  lastSeen: nullableText,
});

/** `200` answer of `GET /v1/facts`. */
export const kubeFactsSchema = z.object({
  kubernetesVersion: nullableText,
  nodeCount: z.int().min(0),
  nodes: z.array(kubeFactsNodeSchema).max(MAX_FACTS_NODES),
  warnings: z.array(kubeFactsWarningSchema).max(MAX_FACTS_WARNINGS),
});

export type KubeFacts = z.infer<typeof kubeFactsSchema>;

/** Error codes of the target (with `{"error":{"code","message"}}`, target-error.ts). */
export const FACTS_ERROR_CODES = Object.freeze({ NOT_FOUND: 404, FACTS_FAILED: 502 } as const);
