// The fleet wire contract on `http:drover-fleet` (SPEC.md §10.1, docs/fleet-agent.md, decisions
// 0750, 0752, 0755): what the server sends the fleet agent and what the agent answers. Both sides
// parse with these schemas. Objects the server passes through (options, manifests, statuses) are
// `loose`: members a newer side adds are kept, so options held by the agent compare equal with what
// the server would send. Which manifests the agent accepts is checked by the agent itself
// (agents/fleet/manifest-check.ts: MANIFEST_INVALID, DUPLICATE_OBJECT, TOO_MANY_OBJECTS, 422).
import * as z from 'zod';

export const FLEET_TARGET = 'http:drover-fleet';

export const FLEET_PATHS = Object.freeze({
  resume: '/v1/fleet/resume',
  /** Followed by the URI-encoded deployment id (the bundle name). */
  deployments: '/v1/fleet/deployments/',
  outbox: '/v1/fleet/outbox',
  outboxAck: '/v1/fleet/outbox/ack',
} as const);

/** Fleet's per-deployment states an agent reports. */
export const AGENT_DEPLOYMENT_STATES = Object.freeze(['Ready', 'NotReady', 'OutOfSync', 'Modified', 'WaitApplied', 'ErrApplied'] as const);
/** The states only the server assigns: not delivered yet (Pending), agent not connected (Offline). */
export const SERVER_DEPLOYMENT_STATES = Object.freeze(['Pending', 'Offline'] as const);
/** Every state a deployment of a bundle can show (`drover bundle status`). */
export const FLEET_DEPLOYMENT_STATES = Object.freeze([...AGENT_DEPLOYMENT_STATES, ...SERVER_DEPLOYMENT_STATES] as const);

/** Fleet's `diff.comparePatches[]` entry: for matching objects, ignore the listed fields. */
export const comparePatchSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  jsonPointers: z.array(z.string()).optional(),
  /** JSON-patch operations applied to both sides before comparing (Fleet uses `remove`). */
  operations: z.array(z.object({ op: z.string(), path: z.string(), value: z.unknown().optional() })).optional(),
}).loose();

/** What the agent enforces for one deployment, as the server derived it from fleet.yaml. */
export const deploymentOptionsSchema = z.object({
  keepResources: z.boolean().optional(),
  correctDrift: z.boolean().optional(),
  comparePatches: z.array(comparePatchSchema).optional(),
  /** Deployments that must be Ready (or in acceptedStates) before this one is applied. */
  dependsOn: z.array(z.object({ deploymentId: z.string().min(1), acceptedStates: z.array(z.string().max(64)).optional() }).loose()).optional(),
  defaultNamespace: z.string().optional(),
  takeOwnership: z.boolean().optional(),
}).loose();

/** A Kubernetes object as JSON: the header is checked, the rest is whatever the manifest says. */
export const kubeObjectSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }).loose(),
}).loose();

const deploymentHeader = {
  /** The deployment id: the bundle name (also in the path). */
  id: z.string().min(1),
  bundle: z.string().min(1),
  /** Content address of the manifest set (protocol/manifest-digest.ts). */
  revision: z.string().min(1),
  options: deploymentOptionsSchema,
};

/** `PUT /v1/fleet/deployments/{id}`, the whole set. Each manifest is checked by the agent. */
export const desiredFullSchema = z.object({ ...deploymentHeader, manifests: z.array(z.unknown()) });

/** `PUT /v1/fleet/deployments/{id}` as a delta from the revision the agent holds (only when both
 *  HELLOs list FLEET_DELTA): objects added or changed, whole, and the ids of those removed. */
export const desiredDeltaSchema = z.object({
  ...deploymentHeader,
  delta: z.object({
    from: z.string().min(1),
    upserts: z.array(z.object({ id: z.string(), object: kubeObjectSchema })),
    removals: z.array(z.string()),
  }),
});

/** The PUT body: a delta when it has `delta`, else the whole set. */
export const desiredBodySchema = z.union([desiredDeltaSchema, desiredFullSchema]);

/** `200` answer to the PUT, sent only after the agent committed it to disk. */
export const desiredAckSchema = z.object({ deploymentId: z.string(), revision: z.string() });

/** `GET /v1/fleet/resume`: what the agent holds durably. `features` is written for servers before
 *  protocol 1.1 only (decision 0981); newer servers go by the FLEET_DELTA capability. Agents before
 *  options in the resume point leave `options` out. */
export const resumeAnswerSchema = z.object({
  deployments: z.array(z.object({ deploymentId: z.string().min(1), revision: z.string().min(1), options: deploymentOptionsSchema.optional() })),
  features: z.array(z.string()).optional(),
});

/** `200` answer to `DELETE /v1/fleet/deployments/{id}`. */
export const removeAnswerSchema = z.object({ removed: z.boolean() });

/** One deployment status as the agent reports it (the payload of an outbox row). */
export const deploymentStatusSchema = z.object({
  bundle: z.string().min(1).max(253),
  revision: z.string().max(128),
  appliedRevision: z.string().max(128).nullish().transform((v) => v ?? undefined),
  state: z.string().min(1).max(64),
  message: z.string(),
}).loose();

/** One outbox row. The server checks rows one by one and quarantines bad ones (issue 14). */
export const outboxRowSchema = z.object({
  seq: z.int().min(1),
  createdAt: z.string().max(64).nullish().transform((v) => v ?? undefined),
  status: deploymentStatusSchema,
}).loose();

/** `GET /v1/fleet/outbox?limit=N`: rows in sequence order. Rows are checked one by one (outboxRowSchema). */
export const outboxAnswerSchema = z.object({ rows: z.array(z.unknown()) });

/** `POST /v1/fleet/outbox/ack` body: every row up to and including `seq` is stored by the server. */
export const outboxAckSchema = z.object({ seq: z.int().min(0) });

/** `200` answer to the ack: rows removed from the agent's outbox. */
export const outboxAckAnswerSchema = z.object({ removed: z.int().min(0) });

/** Error codes of the endpoint itself (besides the fleet agent's own, docs/errors-fleet-agent.md),
 *  with `{"error":{"code","message"}}` (target-error.ts). */
export const FLEET_ENDPOINT_ERRORS = Object.freeze({ INVALID: 400, MANIFEST_INVALID: 400, NOT_FOUND: 404, DELTA_MISMATCH: 409, TOO_LARGE: 413 } as const);

export type DeploymentOptionsWire = z.infer<typeof deploymentOptionsSchema>;
export type ComparePatchWire = z.infer<typeof comparePatchSchema>;
export type DesiredFullWire = z.infer<typeof desiredFullSchema>;
export type DesiredDeltaWire = z.infer<typeof desiredDeltaSchema>;
export type ResumeAnswer = z.infer<typeof resumeAnswerSchema>;
export type OutboxRowWire = z.infer<typeof outboxRowSchema>;
export type OutboxAck = z.infer<typeof outboxAckSchema>;
