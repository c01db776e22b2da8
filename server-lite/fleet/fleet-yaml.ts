// fleet.yaml: the schema (Rancher Fleet's option names) and the parser, reading a file as Fleet
// does (decision 0803, which replaces 0601): `""` and null are unset; Fleet's keys that Drover does
// not implement are ignored with a warning or refused with the reason (fleet-yaml-keys.ts); keys
// nobody knows are warnings naming the closest known key, errors with `strict`. Every problem of a
// file is reported at once, with the file and the key path.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { AGENT_DEPLOYMENT_STATES } from '../../protocol/index.ts';
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';
import { didYouMean, dropUnset, keyPaths, removeAt, UNSUPPORTED_FLEET_KEYS } from './fleet-yaml-keys.ts';

const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
export type LabelSelector = z.infer<typeof labelSelector>;

/** Percent ("25%") or an absolute count, as in Kubernetes' intstr. */
const intOrPercent = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+%$/, 'a count or a percent such as "25%"')]);
export type IntOrPercent = z.infer<typeof intOrPercent>;

const helmOptions = z.strictObject({
  chart: z.string().min(1).optional(),
  repo: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  releaseName: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label').max(53).optional(),
  values: z.record(z.string(), z.unknown()).optional(),
  valuesFiles: z.array(z.string().min(1)).optional(),
  /** Take objects over from other bundles (decision 0805); top level only. */
  takeOwnership: z.boolean().optional(),
});
export type HelmOptions = z.infer<typeof helmOptions>;

const kustomizeOptions = z.strictObject({ dir: z.string().min(1).optional() });
const yamlOptions = z.strictObject({ overlays: z.array(z.string().min(1)).optional() });

/** The options a targetCustomization may override, shared with the top level. */
const perTarget = {
  defaultNamespace: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  helm: helmOptions.optional(),
  kustomize: kustomizeOptions.optional(),
  yaml: yamlOptions.optional(),
};

const targetCustomization = z.strictObject({
  name: z.string().min(1).optional(),
  clusterName: z.string().min(1).optional(),
  clusterSelector: labelSelector.optional(),
  clusterGroup: z.string().min(1).optional(),
  doNotDeploy: z.boolean().optional(),
  ...perTarget,
});
export type TargetCustomization = z.infer<typeof targetCustomization>;

/** States a dependsOn may accept: what an agent reports, and Pending (protocol/contracts/fleet.ts). */
export const DEPLOYMENT_STATES = [...AGENT_DEPLOYMENT_STATES, 'Pending'] as const;

const dependsOn = z.strictObject({
  name: z.string().min(1).optional(),
  selector: labelSelector.optional(),
  acceptedStates: z.array(z.enum(DEPLOYMENT_STATES)).optional(),
});

const comparePatch = z.strictObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operations: z.array(z.strictObject({ op: z.string(), path: z.string(), value: z.unknown().optional() })).optional(),
  jsonPointers: z.array(z.string()).optional(),
});

const partition = z.strictObject({
  name: z.string().min(1).optional(),
  maxUnavailable: intOrPercent.optional(),
  clusterName: z.string().min(1).optional(),
  clusterSelector: labelSelector.optional(),
  clusterGroup: z.string().min(1).optional(),
});
export type Partition = z.infer<typeof partition>;

const rolloutStrategy = z.strictObject({
  maxUnavailable: intOrPercent.optional(),
  maxUnavailablePartitions: intOrPercent.optional(),
  partitions: z.array(partition).optional(),
});
export type RolloutStrategy = z.infer<typeof rolloutStrategy>;

export const fleetYamlSchema = z.strictObject({
  ...perTarget,
  /** The bundle's own labels (Fleet's fleet.yaml `labels`): what other bundles' `dependsOn[].selector` matches. */
  labels: z.record(z.string().min(1).max(317), z.string().max(63)).optional(),
  targetCustomizations: z.array(targetCustomization).optional(),
  dependsOn: z.array(dependsOn).optional(),
  diff: z.strictObject({ comparePatches: z.array(comparePatch).optional() }).optional(),
  correctDrift: z.strictObject({ enabled: z.boolean().optional(), force: z.boolean().optional() }).optional(),
  keepResources: z.boolean().optional(),
  paused: z.boolean().optional(),
  rolloutStrategy: rolloutStrategy.optional(),
});
export type FleetYaml = z.infer<typeof fleetYamlSchema>;

function dotted(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}

export interface ParsedFleetYaml {
  fleetYaml: FleetYaml;
  /** What Drover ignored, each naming the file and key path (shown at apply and in bundle status). */
  warnings: string[];
}

/** Every option name of the schema and of Fleet's keys Drover knows of, for "did you mean". */
const KNOWN_NAMES = [
  ...new Set([
    ...[fleetYamlSchema, helmOptions, kustomizeOptions, yamlOptions, targetCustomization, dependsOn, comparePatch, partition, rolloutStrategy, labelSelector].flatMap((o) => Object.keys(o.shape)),
    'enabled', 'force', 'comparePatches',
    ...Object.keys(UNSUPPORTED_FLEET_KEYS).map((k) => k.split('.').pop() ?? k),
  ]),
];

/** Parses and validates one fleet.yaml. `file` names it in every error and warning (a path relative to the repo). */
export function parseFleetYaml(text: string, file: string, opts: { strict?: boolean } = {}): ParsedFleetYaml {
  if (Buffer.byteLength(text) > FLEET_LIMITS.maxFleetYamlBytes) {
    throw new FleetError('FLEET_YAML_INVALID', `${file}: larger than ${FLEET_LIMITS.maxFleetYamlBytes} bytes`, { file });
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const at = yamlError.linePos?.[0];
    const where = at ? `:${at.line}:${at.col}` : '';
    throw new FleetError('FLEET_YAML_INVALID', `${file}${where}: ${(yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`, { file });
  }
  const raw: unknown = dropUnset(doc.toJS() ?? {});
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new FleetError('FLEET_YAML_SCHEMA', `${file}: a fleet.yaml is a mapping of options`, { file, key: '' });
  }
  const warnings: string[] = [];
  const refused: string[] = [];
  for (const k of keyPaths(raw)) {
    const treatment = UNSUPPORTED_FLEET_KEYS[k.path];
    if (!treatment) continue;
    if (treatment.when && !treatment.when(k.value)) {
      removeAt(raw, k.concrete); // the value Drover does anyway (e.g. targetCustomizationMode: FirstMatch)
      continue;
    }
    if (treatment.action === 'refuse') refused.push(`"${k.concrete}" is not supported: ${treatment.reason}`);
    else warnings.push(`${file}: "${k.concrete}" is ignored: ${treatment.reason}`);
    removeAt(raw, k.concrete);
  }
  const unknown: string[] = [];
  for (let round = 0; round < 20; round++) {
    const parsed = fleetYamlSchema.safeParse(raw);
    const unrecognized = parsed.success ? [] : parsed.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (parsed.success || unrecognized.length === 0) {
      const schemaProblems = parsed.success ? [] : parsed.error.issues.map((i) => (i.path.length > 0 ? `"${dotted(i.path)}": ${i.message}` : i.message));
      const problems = [...refused, ...(opts.strict ? unknown.map((u) => `unknown key ${u}`) : []), ...schemaProblems];
      if (problems.length > 0) {
        const code = refused.length > 0 ? 'FLEET_YAML_UNSUPPORTED' : opts.strict && unknown.length > 0 ? 'FLEET_YAML_UNKNOWN_KEY' : 'FLEET_YAML_SCHEMA';
        const firstKey = /^(?:unknown key )?"([^"]+)"/.exec(problems[0] ?? '')?.[1] ?? '';
        throw new FleetError(code, `${file}: ${problems.join('; ')}`, { file, key: firstKey });
      }
      if (!opts.strict) for (const u of unknown) warnings.push(`${file}: unknown key ${u} is ignored (as Fleet ignores it); \`--strict\` refuses it`);
      return { fleetYaml: (parsed.success ? parsed.data : {}) as FleetYaml, warnings };
    }
    for (const issue of unrecognized) {
      if (issue.code !== 'unrecognized_keys') continue;
      for (const key of issue.keys) {
        const concrete = dotted([...issue.path, key]);
        const near = didYouMean(key, KNOWN_NAMES);
        unknown.push(`"${concrete}"${near ? ` (did you mean "${near}"?)` : ''}`);
        removeAt(raw, concrete);
      }
    }
  }
  throw new FleetError('FLEET_YAML_SCHEMA', `${file}: too many unknown keys`, { file });
}
