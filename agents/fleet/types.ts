// The fleet agent's vocabulary: Kubernetes objects as plain JSON, references to them, one
// deployment (a bundle's rendered manifest set for this cluster at one revision) and its states.
import { AGENT_DEPLOYMENT_STATES, type ComparePatchWire, type DeploymentOptionsWire } from '../../protocol/index.ts';

/** A Kubernetes object as JSON. Only the header is typed; the rest is whatever the manifest says. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: unknown[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** Identifies one object in one cluster (namespace is '' for cluster-scoped objects). */
export interface ObjectRef {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
}

/** An inventory row: an object this deployment applied, with the uid the apiserver gave it. */
export interface InventoryEntry extends ObjectRef {
  uid: string;
}

/** Fleet's `diff.comparePatches[]` entry: for matching objects, ignore the listed fields. The wire
 *  contract's type (protocol/contracts/fleet.ts): an unknown `op` is read as Fleet reads it. */
export type ComparePatch = ComparePatchWire;

/** keepResources, correctDrift, comparePatches, dependsOn (ids, acceptedStates), defaultNamespace,
 *  takeOwnership: the wire contract's type, which the endpoint parses with (protocol/contracts/fleet.ts). */
export type DeploymentOptions = DeploymentOptionsWire;

/** What the server hands the agent: one bundle for this cluster at one content-addressed revision. */
export interface DesiredDeployment {
  id: string;
  bundle: string;
  revision: string;
  manifests: KubeObject[];
  options: DeploymentOptions;
}

/** Fleet's per-deployment states (Pending and Offline are the server's to assign); defined in the wire contract. */
export const DEPLOYMENT_STATES = AGENT_DEPLOYMENT_STATES;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** Fleet's precedence: when several apply, the highest rank is reported. */
export const STATE_RANK: Readonly<Record<DeploymentState, number>> = Object.freeze({
  Ready: 1,
  NotReady: 2,
  OutOfSync: 4,
  Modified: 5,
  WaitApplied: 6,
  ErrApplied: 7,
});

/** One object's drift: missing live, or the desired fields whose live value differs. */
export interface ObjectDrift {
  ref: ObjectRef;
  missing: boolean;
  fields: string[];
}

/** What the agent reports for one deployment (the payload of an outbox row). */
export interface DeploymentStatus {
  deploymentId: string;
  bundle: string;
  /** The desired revision this status is about. */
  revision: string;
  /** The revision whose apply last completed (undefined: none yet). */
  appliedRevision: string | undefined;
  state: DeploymentState;
  message: string;
  /** Objects not ready, as `Kind ns/name: reason`. */
  nonReady: string[];
  modified: ObjectDrift[];
}
