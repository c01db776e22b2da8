// The kubeconfig the dashboard hands out (pure): the proxy URL for one cluster, the server's CA
// embedded, a bearer token. The same document `drover kubeconfig` prints (cli/commands/
// kubeconfig.ts builds its own: the CLI may not pull the dashboard into the agent's entry point).
export function kubeconfigDocument(o: { server: string; caPem: string; token: string; name: string; user: string }): string {
  // JSON is YAML: no emitter, no quoting mistakes.
  return `${JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: o.name, cluster: { server: o.server, 'certificate-authority-data': Buffer.from(o.caPem).toString('base64') } }],
    users: [{ name: o.user, user: { token: o.token } }],
    contexts: [{ name: o.name, context: { cluster: o.name, user: o.user } }],
    'current-context': o.name,
  }, null, 2)}\n`;
}
