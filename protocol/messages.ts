// The control-message registry: typed messages carried by CONTROL frames on stream 0, each with
// a wire number, the version it arrived in, whether a receiver must understand it (`required`),
// and a zod schema checked on receipt. Append-only (SPEC.md §7): later issues add kinds (desired
// state, ack, status) at the end; existing entries never change meaning.
import { Buffer } from 'node:buffer';
import * as z from 'zod';
import { MAX_FACTS_BYTES, MAX_FACTS_EXTRAS } from './limits.ts';

const shortText = z.string().max(256);

/** `error`: a structured refusal or failure outside any stream (never a bare string). */
export const errorMessageSchema = z.object({
  code: z.string().min(1).max(64),
  retryable: z.boolean(),
  message: z.string().max(4096),
  /** What the error refers to: a control kind (wire number), a stream id, or an application id. */
  ref: z.object({ kind: z.int().min(0).max(65535).optional(), stream: z.int().min(0).max(0xffffffff).optional(), id: shortText.optional() }).optional(),
});

/** `heartbeat`: application liveness from an agent, with a small summary; pings prove the link. */
export const heartbeatSchema = z.object({
  seq: z.int().min(0),
  /** Sender's wall clock, ms since the epoch (for display; never used for ordering). */
  sentAt: z.int().min(0).optional(),
  uptimeSeconds: z.number().min(0).optional(),
  /** Status messages waiting in the agent's outbox. */
  outbox: z.int().min(0).optional(),
});

/** `facts`: what an agent knows about itself and its cluster (agent → server, on connect and on change). */
export const factsSchema = z.object({
  hostname: shortText,
  os: shortText,
  arch: shortText,
  agentVersion: shortText,
  /** Absent when the agent's role has no Kubernetes access (e.g. a node agent before bootstrap). */
  kubernetesVersion: shortText.optional(),
  nodeCount: z.int().min(0).optional(),
  /** Free-form extras (labels the agent discovered, kernel version, …). */
  extras: z.record(z.string().max(256), z.string().max(4096))
    .refine((e) => Object.keys(e).length <= MAX_FACTS_EXTRAS, `at most ${MAX_FACTS_EXTRAS} extras`)
    .optional(),
}).refine((f) => Buffer.byteLength(JSON.stringify(f)) <= MAX_FACTS_BYTES, `facts larger than ${MAX_FACTS_BYTES} bytes`);

export type ErrorMessageBody = z.infer<typeof errorMessageSchema>;
export type HeartbeatBody = z.infer<typeof heartbeatSchema>;
export type FactsBody = z.infer<typeof factsSchema>;

export interface MessageKindInfo<S extends z.ZodType = z.ZodType> {
  /** Wire number, u16, unique forever. */
  readonly wire: number;
  /** Protocol version (`major.minor`) that introduced it. */
  readonly since: string;
  /** Sent with the REQUIRED flag: a receiver that does not know the kind must refuse it. */
  readonly required: boolean;
  readonly schema: S;
  readonly description: string;
}

export const MESSAGE_KINDS = Object.freeze({
  error: { wire: 1, since: '1.0', required: false, schema: errorMessageSchema, description: 'Structured error about a control message or the session (code, retryable, message, ref).' },
  heartbeat: { wire: 2, since: '1.0', required: false, schema: heartbeatSchema, description: 'Agent liveness and summary; dead-peer detection itself uses PING.' },
  facts: { wire: 3, since: '1.0', required: false, schema: factsSchema, description: 'Agent facts: hostname, os, arch, agentVersion, kubernetesVersion, nodeCount, extras.' },
} as const);

export type MessageKind = keyof typeof MESSAGE_KINDS;

/** Body type of each kind. */
export type MessageBody<K extends MessageKind> = z.infer<(typeof MESSAGE_KINDS)[K]['schema']>;

/** A received, validated control message: a discriminated union over the registry. */
export type ControlMessage = { [K in MessageKind]: { kind: K; body: MessageBody<K> } }[MessageKind];

const byWire = new Map<number, MessageKind>();
for (const [kind, info] of Object.entries(MESSAGE_KINDS)) byWire.set(info.wire, kind as MessageKind);

/** The kind for a wire number, undefined for kinds from a newer peer. */
export function messageKindFromWire(wire: number): MessageKind | undefined {
  return byWire.get(wire);
}

/** Result of checking a received CONTROL payload against the registry. */
export type MessageCheck =
  | { ok: true; message: ControlMessage }
  | { ok: false; reason: 'unknown-optional'; wire: number }
  | { ok: false; reason: 'unknown-required'; wire: number }
  | { ok: false; reason: 'invalid'; wire: number; kind: MessageKind; detail: string };

/**
 * Decides what a received control message is. Pure: the session turns the verdict into delivery,
 * silence (unknown optional) or an `error` reply (unknown required, invalid).
 */
export function checkMessage(wire: number, required: boolean, json: unknown): MessageCheck {
  const kind = byWire.get(wire);
  if (kind === undefined) return { ok: false, reason: required ? 'unknown-required' : 'unknown-optional', wire };
  const parsed = MESSAGE_KINDS[kind].schema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: 'invalid', wire, kind, detail: z.prettifyError(parsed.error).slice(0, 1024) };
  }
  return { ok: true, message: { kind, body: parsed.data } as ControlMessage };
}
