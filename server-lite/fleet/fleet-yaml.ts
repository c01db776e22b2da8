// fleet.yaml: the schema (Rancher Fleet's option names) and the parser. Unlike Fleet, which silently
// ignores keys it does not know, we refuse them with the key's path and the file (decision 0601):
// a typo such as `valueFiles` must not deploy a chart with its defaults.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { FleetError } from './errors.ts';
import { FLEET_LIMITS } from './limits.ts';

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

export const DEPLOYMENT_STATES = ['Ready', 'NotReady', 'WaitApplied', 'ErrApplied', 'OutOfSync', 'Modified', 'Pending'] as const;

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

/** Parses and validates one fleet.yaml. `file` names it in every error (a path relative to the repo). */
export function parseFleetYaml(text: string, file: string): FleetYaml {
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
  const raw: unknown = doc.toJS() ?? {};
  const parsed = fleetYamlSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const unknownKey = parsed.error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknownKey && unknownKey.code === 'unrecognized_keys') {
    const key = dotted([...unknownKey.path, unknownKey.keys[0] ?? '']);
    const more = unknownKey.keys.length > 1 ? ` (and ${unknownKey.keys.slice(1).join(', ')})` : '';
    throw new FleetError(
      'FLEET_YAML_UNKNOWN_KEY',
      `${file}: unknown key "${key}"${more}; Drover refuses keys it does not know (see docs/fleet.md for the options)`,
      { file, key },
    );
  }
  const issue = parsed.error.issues[0];
  const key = issue ? dotted(issue.path) : '';
  throw new FleetError('FLEET_YAML_SCHEMA', `${file}: ${key ? `"${key}": ` : ''}${issue?.message ?? 'invalid'}`, { file, key });
}
