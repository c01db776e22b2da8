// Error registry of the fleet manager: every code a bundle's status or the CLI can show.
// docs/errors-fleet.md documents each one; errors.test.ts keeps the two in sync.
// A FleetError names what is at fault (file, bundle, target) so the message alone says where to look.

export const FLEET_ERRORS = Object.freeze({
  FLEET_YAML_INVALID: { status: 400, message: 'fleet.yaml is not valid YAML' },
  FLEET_YAML_UNKNOWN_KEY: { status: 400, message: 'fleet.yaml has a key Drover does not know' },
  FLEET_YAML_SCHEMA: { status: 400, message: 'fleet.yaml has a value of the wrong type or shape' },
  FLEET_YAML_UNSUPPORTED: { status: 400, message: 'fleet.yaml uses a Fleet option Drover cannot honour without deploying something else' },
  MANIFEST_INVALID: { status: 400, message: 'a manifest is not valid YAML or not a Kubernetes object' },
  MANIFEST_DUPLICATE: { status: 400, message: 'two objects in one bundle have the same kind, namespace and name' },
  NAMESPACE_CLUSTER_SCOPED: { status: 400, message: '`namespace` is set but the bundle holds a cluster-scoped object' },
  BUNDLE_NOT_FOUND: { status: 404, message: 'no bundle at that path' },
  GITREPO_NOT_FOUND: { status: 404, message: 'no gitrepo has that name' },
  CLUSTERGROUP_NOT_FOUND: { status: 404, message: 'no cluster group has that name' },
  CLUSTER_NOT_FOUND: { status: 404, message: 'no registered cluster has that id or name' },
  BUNDLE_EMPTY: { status: 400, message: 'the bundle renders to no objects' },
  PATH_ESCAPES_BUNDLE: { status: 400, message: 'a path in fleet.yaml points outside the bundle directory' },
  TARGET_NO_MATCH: { status: 400, message: 'a bundle target matches no cluster' },
  DEPENDENCY_CYCLE: { status: 400, message: 'dependsOn between bundles forms a cycle' },
  SELECTOR_INVALID: { status: 400, message: 'a label selector is malformed' },
  HELM_RENDER_FAILED: { status: 422, message: '`helm template` failed for this bundle and target' },
  KUSTOMIZE_RENDER_FAILED: { status: 422, message: '`kustomize build` failed for this bundle and target' },
  TOOL_NOT_FOUND: { status: 500, message: 'the helm or kustomize binary is missing; check the configured tool paths' },
  RENDER_TOO_LARGE: { status: 413, message: 'the rendered bundle exceeds the size limit' },
  CHUNK_MISSING: { status: 500, message: 'a blob of a chunked manifest set is missing' },
  CHUNK_CORRUPT: { status: 500, message: 'a blob of a chunked manifest set does not match its hash' },
  DELTA_MISMATCH: { status: 409, message: 'a manifest delta does not fit the base revision or does not produce its target revision' },
  ROLLOUT_INVALID: { status: 400, message: 'rolloutStrategy has an invalid maxUnavailable' },
  SOURCE_ARCHIVE_INVALID: { status: 400, message: 'the pushed directory archive is malformed or has an entry that is not allowed' },
  SOURCE_TOO_LARGE: { status: 413, message: 'the pushed directory is too large' },
  WEBHOOK_INVALID: { status: 400, message: 'the webhook request is not a GitHub, Gitea or GitLab event this server understands' },
  WEBHOOK_UNAUTHORIZED: { status: 401, message: 'the webhook signature or token does not match the configured secret' },
  GIT_FAILED: { status: 502, message: 'a git command failed; the repository is unreachable or the ref does not exist' },
  GIT_AUTH_FAILED: { status: 502, message: 'the git server refused the credentials of the gitrepo\'s clientSecretName (or asked for some and none were given)' },
  GIT_HOST_KEY_MISMATCH: { status: 502, message: 'the SSH host key of the git server is not in the knownHosts of the gitrepo\'s ssh secret' },
  GIT_HOST_UNREACHABLE: { status: 502, message: 'the git server\'s host name does not resolve or it does not answer' },
  GIT_TLS_FAILED: { status: 502, message: 'the git server\'s TLS certificate is not trusted' },
  GIT_REPO_NOT_FOUND: { status: 502, message: 'no git repository at that URL' },
  GIT_REF_NOT_FOUND: { status: 502, message: 'the branch, tag or commit does not exist in the repository' },
  GIT_CREDENTIALS_MISSING: { status: 400, message: 'the gitrepo names a secret (clientSecretName, helmSecretName) that is not stored or is of the wrong type' },
  HELM_CHART_NOT_FOUND: { status: 422, message: 'the chart, or a version matching helm.version, is not in the Helm repository or OCI registry' },
  HELM_REPO_TLS_FAILED: { status: 422, message: 'the Helm repository\'s or OCI registry\'s TLS certificate is not trusted' },
  HELM_REPO_AUTH_FAILED: { status: 422, message: 'the Helm repository or OCI registry refused the credentials of helmSecretName (or asked for some)' },
} as const);

export type FleetErrorCode = keyof typeof FLEET_ERRORS;

/** What a FleetError is about; every field optional, all safe to log. */
export interface FleetErrorContext {
  file?: string;
  bundle?: string;
  target?: string;
  key?: string;
}

export class FleetError extends Error {
  readonly code: FleetErrorCode;
  readonly status: number;
  readonly context: FleetErrorContext;

  constructor(code: FleetErrorCode, message?: string, context: FleetErrorContext = {}, options?: { cause?: unknown }) {
    super(message ?? FLEET_ERRORS[code].message, options);
    this.name = 'FleetError';
    this.code = code;
    this.status = FLEET_ERRORS[code].status;
    this.context = context;
  }

  /** The shape a bundle's status and the API carry: `{code, message, ...context}`. */
  toJSON(): { code: FleetErrorCode; message: string } & FleetErrorContext {
    return { code: this.code, message: this.message, ...this.context };
  }
}

export function isFleetError(e: unknown): e is FleetError {
  return e instanceof FleetError;
}
