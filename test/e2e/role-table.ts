// What each Drover cluster role may do, as docs/roles.md documents it (decision 0801): one row per
// action a user tries with kubectl, the Kubernetes resource and verb the apiserver authorises it as,
// and the answer per role. test/e2e/roles.test.ts performs every row as each role's user through
// the proxy (and checks `kubectl auth can-i --list` agrees); test/integration/roles-doc.test.ts
// checks docs/roles.md shows this very table. `team` is an ordinary namespace, `kube-system` a
// protected one; widgets are a CRD that ships aggregate-to-view/edit ClusterRoles, gadgets one that
// ships none.

export const ROLES = ['read-only', 'cluster-member', 'cluster-owner'] as const;
export type RoleName = (typeof ROLES)[number];

export interface RoleRow {
  id: string;
  /** What the user runs (kubectl shorthand). */
  action: string;
  /** The Kubernetes resource (plural[.group][/subresource]) and verb it is authorised as. */
  resource: string;
  verb: string;
  namespace: 'team' | 'kube-system' | '-';
  allowed: Readonly<Record<RoleName, boolean>>;
}

const yes = { 'read-only': true, 'cluster-member': true, 'cluster-owner': true } as const;
const ownerOnly = { 'read-only': false, 'cluster-member': false, 'cluster-owner': true } as const;
const writers = { 'read-only': false, 'cluster-member': true, 'cluster-owner': true } as const;

export const ROLE_TABLE: readonly RoleRow[] = Object.freeze([
  { id: 'get-pods', action: 'get pods', resource: 'pods', verb: 'list', namespace: 'team', allowed: yes },
  { id: 'logs', action: 'logs POD', resource: 'pods/log', verb: 'get', namespace: 'team', allowed: yes },
  { id: 'get-pods-system', action: 'get pods -n kube-system', resource: 'pods', verb: 'list', namespace: 'kube-system', allowed: yes },
  { id: 'exec-ws', action: 'exec POD (WebSocket)', resource: 'pods/exec', verb: 'get', namespace: 'team', allowed: writers },
  { id: 'exec-spdy', action: 'exec POD (SPDY)', resource: 'pods/exec', verb: 'create', namespace: 'team', allowed: writers },
  { id: 'attach', action: 'attach POD', resource: 'pods/attach', verb: 'create', namespace: 'team', allowed: writers },
  { id: 'port-forward-ws', action: 'port-forward POD (WebSocket)', resource: 'pods/portforward', verb: 'get', namespace: 'team', allowed: writers },
  { id: 'port-forward-spdy', action: 'port-forward POD (SPDY)', resource: 'pods/portforward', verb: 'create', namespace: 'team', allowed: writers },
  { id: 'get-secret', action: 'get secret', resource: 'secrets', verb: 'get', namespace: 'team', allowed: writers },
  { id: 'get-secret-system', action: 'get secret -n kube-system', resource: 'secrets', verb: 'get', namespace: 'kube-system', allowed: ownerOnly },
  { id: 'create-token', action: 'create token SA', resource: 'serviceaccounts/token', verb: 'create', namespace: 'team', allowed: ownerOnly },
  { id: 'impersonate-sa', action: 'impersonate a service account (RBAC verb)', resource: 'serviceaccounts', verb: 'impersonate', namespace: 'team', allowed: ownerOnly },
  { id: 'create-deployment', action: 'create deployment', resource: 'deployments.apps', verb: 'create', namespace: 'team', allowed: writers },
  { id: 'create-cm-system', action: 'create configmap -n kube-system', resource: 'configmaps', verb: 'create', namespace: 'kube-system', allowed: ownerOnly },
  { id: 'service-proxy', action: 'get --raw …/services/SVC/proxy/', resource: 'services/proxy', verb: 'get', namespace: 'team', allowed: writers },
  { id: 'node-proxy', action: 'get --raw /api/v1/nodes/NODE/proxy/…', resource: 'nodes/proxy', verb: 'get', namespace: '-', allowed: ownerOnly },
  { id: 'get-nodes', action: 'get nodes', resource: 'nodes', verb: 'list', namespace: '-', allowed: yes },
  { id: 'delete-node', action: 'delete node', resource: 'nodes', verb: 'delete', namespace: '-', allowed: ownerOnly },
  { id: 'create-namespace', action: 'create namespace', resource: 'namespaces', verb: 'create', namespace: '-', allowed: writers },
  { id: 'delete-namespace', action: 'delete namespace', resource: 'namespaces', verb: 'delete', namespace: '-', allowed: ownerOnly },
  { id: 'create-crb', action: 'create clusterrolebinding', resource: 'clusterrolebindings.rbac.authorization.k8s.io', verb: 'create', namespace: '-', allowed: ownerOnly },
  { id: 'create-rolebinding', action: 'create rolebinding', resource: 'rolebindings.rbac.authorization.k8s.io', verb: 'create', namespace: 'team', allowed: ownerOnly },
  { id: 'create-webhook', action: 'create validatingwebhookconfiguration', resource: 'validatingwebhookconfigurations.admissionregistration.k8s.io', verb: 'create', namespace: '-', allowed: ownerOnly },
  { id: 'get-crds', action: 'get crd', resource: 'customresourcedefinitions.apiextensions.k8s.io', verb: 'list', namespace: '-', allowed: yes },
  { id: 'create-crd', action: 'create crd', resource: 'customresourcedefinitions.apiextensions.k8s.io', verb: 'create', namespace: '-', allowed: ownerOnly },
  { id: 'get-widgets', action: 'get widgets (CRD aggregating to view/edit)', resource: 'widgets.example.drover.dev', verb: 'list', namespace: 'team', allowed: yes },
  { id: 'create-widget', action: 'create widget (CRD aggregating to view/edit)', resource: 'widgets.example.drover.dev', verb: 'create', namespace: 'team', allowed: writers },
  { id: 'get-gadgets', action: 'get gadgets (CRD without aggregated roles)', resource: 'gadgets.example.drover.dev', verb: 'list', namespace: 'team', allowed: ownerOnly },
  { id: 'kubectl-as', action: 'kubectl --as OTHER (through Drover)', resource: '-', verb: '-', namespace: '-', allowed: { 'read-only': false, 'cluster-member': false, 'cluster-owner': false } },
]);

const mark = (b: boolean): string => (b ? 'yes' : '**no**');

/** The table as docs/roles.md shows it. */
export function roleTableMarkdown(): string {
  const lines = ['| action (kubectl) | resource | verb | namespace | read-only | cluster-member | cluster-owner |', '|---|---|---|---|---|---|---|'];
  for (const r of ROLE_TABLE) {
    lines.push(`| ${r.action} | \`${r.resource}\` | ${r.verb} | ${r.namespace} | ${ROLES.map((role) => mark(r.allowed[role])).join(' | ')} |`);
  }
  return lines.join('\n');
}
