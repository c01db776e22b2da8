// Stable error codes of the fleet agent (docs/errors-fleet-agent.md lists them; errors.test.ts
// keeps registry and docs in sync both ways). Statuses carry `CODE: message`, never bare strings.

export const FLEET_AGENT_ERRORS = Object.freeze({
  MANIFEST_INVALID: 'a manifest lacks apiVersion, kind or metadata.name, or is not an object; the bundle is refused before anything is applied',
  TOO_MANY_OBJECTS: 'the manifest set is larger than MAX_OBJECTS_PER_DEPLOYMENT; split the bundle',
  DUPLICATE_OBJECT: 'two manifests of one deployment name the same object',
  KIND_UNKNOWN: 'the cluster does not serve this apiVersion/kind (a missing CRD, or a removed API version)',
  APPLY_FAILED: 'the apiserver refused the server-side apply of an object; the message carries its answer',
  PRUNE_FAILED: 'an object a new revision dropped could not be deleted',
  CRD_NOT_ESTABLISHED: 'a CustomResourceDefinition did not report Established in time, so its resources were not applied',
  KUBE_UNREACHABLE: 'no answer from the kube-apiserver (down, restarting, or the network is gone); the agent retries',
  KUBE_ERROR: 'the kube-apiserver answered an unexpected status',
  KUBE_RESPONSE_TOO_LARGE: 'a Kubernetes API response exceeded KUBE_MAX_RESPONSE_BYTES',
  STORE_SCHEMA_NEWER: 'the fleet tables were written by a newer drover; upgrade drover instead of downgrading',
  DEPENDENCY_CYCLE: 'deployments depend on each other in a cycle; none of them is applied',
  OWNED_BY_ANOTHER_BUNDLE: 'an object of this bundle already belongs to another bundle (label drover.dev/bundle); nothing was applied. Remove it from one of them, or set helm.takeOwnership: true in the fleet.yaml of the bundle that should have it',
  DELTA_MISMATCH: 'a desired state sent as a delta does not apply to the revision this agent holds, or does not rebuild the revision named; the server sends the whole set instead',
} as const);

export type FleetAgentErrorCode = keyof typeof FLEET_AGENT_ERRORS;

export class FleetAgentError extends Error {
  readonly code: FleetAgentErrorCode;

  constructor(code: FleetAgentErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FleetAgentError';
    this.code = code;
  }
}

/** `CODE: message` for statuses and logs. */
export function describeFleetError(err: unknown): string {
  if (err instanceof FleetAgentError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
