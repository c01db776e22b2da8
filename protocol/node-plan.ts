// A node plan (issue 15, docs/plans.md): what the server and the node agent agree a plan is.
// `checkPlan` validates a parsed document (YAML or JSON, parsed by the caller) and returns it in
// normal form — every default filled in, durations in milliseconds — and `planChecksum` is the
// SHA-256 of that form as canonical JSON, so two spellings of one plan have one checksum and the
// node reports exactly which plan it applied. Pure; both sides import it, so they cannot drift.
import { Buffer } from 'node:buffer';
import * as z from 'zod';
import { canonicalJson, sha256Hex } from './manifest-digest.ts';

/** The stream target the node agent serves plans on (server → node, like `http:drover-fleet`). */
export const NODE_PLAN_TARGET = 'http:drover-plans';
export const PLAN_API_VERSION = 'drover.dev/v1';

/** The states of one plan on one node (ARCHITECTURE.md §3, `plan status --json`). */
export const PLAN_STATES = ['Pending', 'InProgress', 'Succeeded', 'Failed', 'RolledBack', 'Paused', 'Canceled'] as const;
export type PlanState = (typeof PLAN_STATES)[number];
export const TERMINAL_PLAN_STATES: ReadonlySet<PlanState> = new Set(['Succeeded', 'Failed', 'RolledBack', 'Canceled']);

export const PLAN_LIMITS = Object.freeze({
  /** Output kept per instruction: the last 64 KiB (issue 15). */
  outputBytes: 64 * 1024,
  maxFiles: 256,
  maxInstructions: 256,
  maxProbes: 32,
  /** A whole plan as JSON; files larger than this belong in a release artifact, not a plan. */
  maxPlanBytes: 8 * 1024 * 1024,
  maxTimeoutMs: 24 * 3600_000,
});

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `5m`, `1h30m`, or a number of seconds; undefined when it is none of these. */
export function durationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : undefined;
  if (typeof v !== 'string') return undefined;
  const parts = [...v.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v.trim()) return undefined;
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * (DURATION_UNITS[p[2] ?? 's'] ?? 1000), 0));
}

const duration = (what: string, min: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = durationMs(v);
    if (ms === undefined || ms < min || ms > PLAN_LIMITS.maxTimeoutMs) {
      ctx.addIssue({ code: 'custom', message: `${what} "${String(v)}" is not a duration between ${min} ms and 24h (like 30s, 5m, 1h)` });
      return z.NEVER;
    }
    return ms;
  });

/** Absolute, normalised: no `..` or `.` segments, no empty segments, no NUL. */
const absolutePath = z.string().min(2).max(4096).superRefine((p, ctx) => {
  if (!p.startsWith('/')) ctx.addIssue({ code: 'custom', message: `"${p}" is a relative path; plans name absolute paths` });
  else if (p.includes('\0')) ctx.addIssue({ code: 'custom', message: 'the path contains a NUL byte' });
  else if (p.split('/').slice(1).some((s) => s === '..' || s === '.' || s === '')) ctx.addIssue({ code: 'custom', message: `"${p}" contains "..", "." or an empty segment; write the path out in full` });
});

const name = z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,62}[A-Za-z0-9])?$/, 'a name of letters, digits, "-", "_" and "." (at most 64)');
const env = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string()).default({});
const args = z.array(z.string().max(65536)).max(1024).default([]);
const command = z.string().min(1).max(4096);

const file = z.strictObject({
  path: absolutePath,
  content: z.string().optional(),
  base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64 text').optional(),
  /** Octal as a string ("0644"): a YAML 0644 would be read as the decimal number 644. */
  mode: z.string().regex(/^0?[0-7]{3,4}$/, 'an octal mode as a string, like "0644"').optional(),
  /** Numeric `uid:gid`: names would be resolved differently on each node. */
  owner: z.string().regex(/^\d+:\d+$/, 'numeric "uid:gid", like "0:0"').optional(),
  directory: z.boolean().default(false),
}).superRefine((f, ctx) => {
  if (f.content !== undefined && f.base64 !== undefined) ctx.addIssue({ code: 'custom', message: 'give content or base64, not both' });
  if (f.directory && (f.content !== undefined || f.base64 !== undefined)) ctx.addIssue({ code: 'custom', message: 'a directory has no content' });
}).transform((f) => ({
  path: f.path,
  directory: f.directory,
  ...(f.directory ? {} : { base64: f.base64 ?? Buffer.from(f.content ?? '', 'utf8').toString('base64') }),
  mode: f.mode === undefined ? (f.directory ? 0o755 : 0o644) : parseInt(f.mode, 8),
  ...(f.owner === undefined ? {} : { owner: f.owner }),
}));

const instructionFields = {
  name: name.optional(),
  command,
  args,
  env,
  workingDir: absolutePath.optional(),
  /** Required: an instruction without a timeout could hang a node's plan forever (issue 15). */
  timeout: duration('timeout', 1),
};

const instruction = z.strictObject({ ...instructionFields, idempotent: z.boolean().default(false) });
const periodic = z.strictObject({ ...instructionFields, period: duration('period', 1000) });

const probe = z.strictObject({
  name: name.optional(),
  http: z.strictObject({
    url: z.string().regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL'),
    /** PEM of the CA that signed the endpoint's certificate (the system's CAs otherwise). */
    caCert: z.string().optional(),
  }).optional(),
  exec: z.strictObject({ command, args }).optional(),
  initialDelay: duration('initialDelay', 0).default(0),
  period: duration('period', 100).default(5000),
  timeout: duration('timeout', 1).default(5000),
  successThreshold: z.int().min(1).max(100).default(1),
  failureThreshold: z.int().min(1).max(100).default(3),
}).superRefine((p, ctx) => {
  if ((p.http === undefined) === (p.exec === undefined)) ctx.addIssue({ code: 'custom', message: 'a probe has exactly one of http or exec' });
});

export const planDocumentSchema = z.strictObject({
  apiVersion: z.literal(PLAN_API_VERSION).optional(),
  kind: z.literal('Plan', { error: 'kind must be "Plan"' }),
  metadata: z.strictObject({ name: name.optional() }).optional(),
  files: z.array(file).max(PLAN_LIMITS.maxFiles).default([]),
  instructions: z.array(instruction).max(PLAN_LIMITS.maxInstructions).default([]),
  periodicInstructions: z.array(periodic).max(PLAN_LIMITS.maxInstructions).default([]),
  probes: z.array(probe).max(PLAN_LIMITS.maxProbes).default([]),
  onFailure: z.enum(['rollback', 'pause']).default('rollback'),
  rollback: z.array(instruction).max(PLAN_LIMITS.maxInstructions).default([]),
});

export type PlanFile = z.output<typeof file>;
export type PlanInstruction = Omit<z.output<typeof instruction>, 'name' | 'timeout'> & { name: string; timeoutMs: number };
export type PlanPeriodic = Omit<z.output<typeof periodic>, 'name' | 'timeout' | 'period'> & { name: string; timeoutMs: number; periodMs: number };
export interface PlanProbe {
  name: string;
  http?: { url: string; caCert?: string | undefined } | undefined;
  exec?: { command: string; args: string[] } | undefined;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** A plan in normal form: what is hashed, stored, sent and run. The name is not part of it. */
export interface Plan {
  files: PlanFile[];
  instructions: PlanInstruction[];
  periodicInstructions: PlanPeriodic[];
  probes: PlanProbe[];
  onFailure: 'rollback' | 'pause';
  rollback: PlanInstruction[];
}

export class PlanInvalid extends Error {
  readonly code = 'PLAN_INVALID';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the plan is invalid: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

function where(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(plan)';
}

function named<T extends { name?: string | undefined; timeout: number }>(list: T[], prefix: string): (Omit<T, 'name' | 'timeout'> & { name: string; timeoutMs: number })[] {
  return list.map(({ name: n, timeout, ...rest }, i) => ({ ...rest, name: n ?? `${prefix}-${i}`, timeoutMs: timeout }));
}

/** Validates a parsed plan document; returns its name (if it names itself) and its normal form. */
export function checkPlan(doc: unknown): { name: string | undefined; plan: Plan } {
  const r = planDocumentSchema.safeParse(doc);
  if (!r.success) {
    throw new PlanInvalid(r.error.issues.map((i) => {
      // Unknown keys are named, so a typo like `timout` says which key.
      const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      const missing = (i.code === 'invalid_type' || i.code === 'invalid_union') && i.input === undefined ? 'is required' : i.message;
      return `${where(i.path)}: ${missing}${keys}`;
    }));
  }
  const d = r.data;
  const names = new Set<string>();
  const plan: Plan = {
    files: d.files,
    instructions: named(d.instructions, 'instruction'),
    periodicInstructions: d.periodicInstructions.map(({ name: n, timeout, period, ...rest }, i) => ({ ...rest, name: n ?? `periodic-${i}`, timeoutMs: timeout, periodMs: period })),
    probes: d.probes.map(({ name: n, initialDelay, period, timeout, ...rest }, i) => ({ ...rest, name: n ?? `probe-${i}`, initialDelayMs: initialDelay, periodMs: period, timeoutMs: timeout })),
    onFailure: d.onFailure,
    rollback: named(d.rollback, 'rollback'),
  };
  const problems: string[] = [];
  for (const [list, what] of [[plan.instructions, 'instructions'], [plan.rollback, 'rollback'], [plan.periodicInstructions, 'periodicInstructions'], [plan.probes, 'probes']] as const) {
    names.clear();
    for (const x of list) {
      if (names.has(x.name)) problems.push(`${what}: the name "${x.name}" is used twice`);
      names.add(x.name);
    }
  }
  const paths = new Set<string>();
  for (const f of plan.files) {
    if (paths.has(f.path)) problems.push(`files: "${f.path}" is listed twice`);
    paths.add(f.path);
  }
  if (plan.files.length + plan.instructions.length + plan.probes.length + plan.periodicInstructions.length === 0) problems.push('(plan): nothing to do (no files, instructions, periodicInstructions or probes)');
  if (problems.length > 0) throw new PlanInvalid(problems);
  if (Buffer.byteLength(JSON.stringify(plan)) > PLAN_LIMITS.maxPlanBytes) throw new PlanInvalid([`(plan): larger than ${PLAN_LIMITS.maxPlanBytes} bytes as JSON`]);
  return { name: d.metadata?.name, plan };
}

/** SHA-256 (hex) of the plan's canonical JSON. */
export function planChecksum(plan: Plan): string {
  return sha256Hex(canonicalJson(plan));
}

/** Steps of a plan as the agent runs them, in order: files, then instructions, then probes. */
export type PlanStep =
  | { kind: 'file'; index: number; file: PlanFile }
  | { kind: 'instruction'; index: number; instruction: PlanInstruction }
  | { kind: 'probes' };

export function planSteps(plan: Plan): PlanStep[] {
  return [
    ...plan.files.map((file, index) => ({ kind: 'file' as const, index, file })),
    ...plan.instructions.map((instruction, index) => ({ kind: 'instruction' as const, index, instruction })),
    ...(plan.probes.length > 0 ? [{ kind: 'probes' as const }] : []),
  ];
}

export function stepLabel(s: PlanStep): string {
  return s.kind === 'file' ? `file ${s.file.path}` : s.kind === 'instruction' ? `instruction ${s.instruction.name}` : 'probes';
}
