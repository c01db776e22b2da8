// The access set the server syncs to a cluster agent for its local endpoint (issue 18,
// docs/access.md), as both sides name it: the endpoint's settings and serving certificate, and who
// may use it (token hashes with expiry, each user's Kubernetes identity). Types only.
import type { KubeIdentity } from './kube-identity.ts';

export interface EndpointSettings {
  /** `HOST:PORT` the endpoint listens on. */
  listen: string;
  fqdn: string | null;
  certPem: string;
  keyPem: string;
  /** The CA that signed certPem (what the `CLUSTER-local` kubeconfig context trusts). */
  caPem: string;
}

export interface AccessUser {
  name: string;
  globalRole: string;
  identity: KubeIdentity;
}

export interface AccessToken {
  /** `t-…` for user API tokens; `admin-token` for the server's admin token. */
  id: string;
  /** sha256 hex of the secret (user tokens) or of the whole token (admin token). */
  secretHash: string;
  user: string;
  /** `local`, `admin-token`, or the kind of the user's identity provider (`ldap`, `oidc`). */
  idp: string;
  /** The identity provider's name, for users of LDAP/OIDC providers (audit rows name it). */
  provider?: string;
  /** Epoch ms; null: never expires. */
  expiresAt: number | null;
}

export interface AccessSet {
  revision: string;
  /** null: the endpoint is disabled (the agent stops listening and forgets the tokens). */
  endpoint: EndpointSettings | null;
  users: AccessUser[];
  tokens: AccessToken[];
  /** Groups an admin may impersonate (--as-group), as the server's proxy allows them. */
  droverGroups: string[];
}

