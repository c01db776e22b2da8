// The fleet manager's public surface, for the server wiring (API, store, tunnel) and the CLI.
// Everything here is pure or a bounded I/O adapter; see docs/fleet.md for the pipeline.
export { FLEET_ERRORS, FleetError, isFleetError, type FleetErrorCode, type FleetErrorContext } from './errors.ts';
export { FLEET_LIMITS } from './limits.ts';
export { parseFleetYaml, fleetYamlSchema, type FleetYaml, type LabelSelector, type RolloutStrategy, type TargetCustomization } from './fleet-yaml.ts';
export { matchesSelector, parseSelectorString, validateSelector, type Labels } from './label-selector.ts';
export { scanBundles, discoverBundles, bundleName, type DiscoveredBundle, type DiscoveryResult } from './discovery.ts';
export { resolveTargets, matchesTarget, type ClusterInfo, type ClusterGroup, type TargetCriteria, type TargetResolution } from './targeting.ts';
export { renderBundle, rendererFor, type RenderedTarget, type RendererKind } from './render-bundle.ts';
export { renderSource, renderDiscovered, bundleRevision, type BundleOutcome, type RenderedBundle } from './render-source.ts';
export { toolsAt, type RenderTools } from './tools.ts';
export { canonicalJson, normaliseManifests, parseManifests, verifyManifestSet, type ManifestSet, type ManifestEntry } from './manifest-set.ts';
export { chunkManifestSet, reassembleManifestSet, chunkBytes, reassembleBytes, type ChunkIndex, type BlobGetter } from './chunks.ts';
export { planRollout, resolveIntOrPercent, type RolloutCluster, type RolloutPlan } from './rollout.ts';
export { nextDeployments, type DeploymentRecord, type DeploymentUpdate, type ClusterState } from './deployments.ts';
export {
  deploymentState,
  bundleStatus,
  clusterStatus,
  worstState,
  STATE_PRECEDENCE,
  type DeploymentState,
  type DeploymentObservation,
  type BundleStatus,
} from './deployment-state.ts';
export { GitPoller, type PollResult, type GitPollerOptions } from './git-poller.ts';
export { redactUrl, type GitSourceSpec } from './git-checkout.ts';
export { parseWebhook, gitreposForPush, normaliseRepoUrl, type WebhookEvent, type WebhookTarget } from './webhook.ts';
export { packSource, extractSource, listSourceFiles } from './source-archive.ts';
export { checkDependencies, assertNoDependencyCycle, type BundleOnCluster, type DependencyCheck } from './dependencies.ts';
export { diffManifestSets, applyManifestDelta, type ManifestDelta } from './manifest-delta.ts';
