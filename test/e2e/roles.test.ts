// Issue 22 acceptance: each Drover cluster role grants exactly what docs/roles.md says. A real
// kube-apiserver (with the controller-manager, which fills aggregated roles), a real drover server
// and cluster agent, and the built kubectl unchanged, over WebSocket and SPDY
// (KUBECTL_REMOTE_COMMAND_WEBSOCKETS / KUBECTL_PORT_FORWARD_WEBSOCKETS=false). The cluster starts
// with the wider roles an older Drover wrote, which the upgrade corrects; then every row of
// role-table.ts runs as each role's user through the proxy, and `kubectl auth can-i --list` must
// agree with the row. Impersonation: a global admin's --as gives the user's answers and is audited
// with both names; anyone else's --as is a 403 with a message.
import t from 'tap';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { agentStatus, childEnv, createToken, drover, DROVER, ROOT, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';
import { ROLE_TABLE, ROLES, type RoleName, type RoleRow } from './role-table.ts';

const USERS: Record<RoleName, string> = { 'read-only': 'rita', 'cluster-member': 'mark', 'cluster-owner': 'olga' };

// What an older Drover (before decision 0801) left on clusters: wide ClusterRoles, and a member
// binding cluster-wide to a role with `*` on the core group.
const OLD_ROLES = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: drover-read-only, labels: {app.kubernetes.io/managed-by: drover}}
rules:
- {apiGroups: ['*'], resources: ['*'], verbs: [get, list, watch]}
- {nonResourceURLs: ['*'], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: drover-cluster-member, labels: {app.kubernetes.io/managed-by: drover}}
rules:
- {apiGroups: ['', apps, batch], resources: ['*'], verbs: ['*']}
- {apiGroups: ['*'], resources: ['*'], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: drover-cluster-member, labels: {app.kubernetes.io/managed-by: drover}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: drover-cluster-member}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: 'drover:user:mark'}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: drover-read-only, labels: {app.kubernetes.io/managed-by: drover}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: drover-read-only}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: 'drover:user:rita'}]
`;

// A CRD whose authors ship aggregated roles (as most operators do), and one that ships none.
const CRDS = ['widgets', 'gadgets']
  .map(
    (plural) => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.example.drover.dev}
spec:
  group: example.drover.dev
  scope: Namespaced
  names: {plural: ${plural}, singular: ${plural.slice(0, -1)}, kind: ${plural[0]?.toUpperCase()}${plural.slice(1, -1)}}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---`,
  )
  .join('\n')
  .concat(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widgets-view, labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}}
rules: [{apiGroups: [example.drover.dev], resources: [widgets], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widgets-edit, labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}}
rules: [{apiGroups: [example.drover.dev], resources: [widgets], verbs: [create, update, patch, delete]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: team}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team}
spec: {ports: [{port: 80}]}
`);

interface Outcome {
  allowed: boolean;
  detail: string;
}

/** A refusal must be Kubernetes' (or the proxy's) 403, not some other failure. */

const forbidden = (text: string): boolean => /forbidden|cannot .* in the namespace|cannot .* at the cluster scope|may not impersonate/i.test(text);

t.test('roles: what each Drover role may do, on a real apiserver with unmodified kubectl', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const admin = (args: string[], input?: string) =>
    execa(DROVER, [...args, '--data-dir', serverDir], { reject: false, env: childEnv(), extendEnv: false, ...(input === undefined ? {} : { input }) });
  const direct = (...args: string[]) => execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false, timeout: 60_000 });
  const node = cluster.nodes[0] ?? 'kwok-node-0';

  // The cluster as an older Drover left it, plus what the table needs.
  writeFileSync(path.join(dir, 'old.yaml'), OLD_ROLES);
  writeFileSync(path.join(dir, 'crds.yaml'), CRDS);
  const old = await direct('apply', '--server-side', '--field-manager=drover', '-f', path.join(dir, 'old.yaml'));
  t.equal(old.exitCode, 0, String(old.stderr));
  const crds = await direct('apply', '-f', path.join(dir, 'crds.yaml'));
  t.equal(crds.exitCode, 0, String(crds.stderr));
  await waitFor('the widget CRD to be served', async () => (await direct('get', 'widgets', '-n', 'team')).exitCode === 0, 90_000);
  const pod = await direct('run', 'p1', '-n', 'team', '--image=registry.example/p:1', '--labels=app=web');
  t.equal(pod.exitCode, 0, String(pod.stderr));
  await waitFor('p1 Ready', async () => (await direct('wait', '-n', 'team', '--for=condition=Ready', 'pod/p1', '--timeout=5s')).exitCode === 0, 90_000);

  for (const role of ROLES) t.equal((await admin(['user', 'create', USERS[role]])).exitCode, 0);
  const agentDir = path.join(dir, 'agent');
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(serverDir), '--name', 'site', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, reg.stderr);
  const clusterId = (await agentStatus(agentDir)).clusterId;
  for (const role of ROLES) t.equal((await admin(['role', 'bind', USERS[role], '--cluster', clusterId, '--role', role])).exitCode, 0);
  const agent = startAgent(agentDir, ['--roles', 'cluster']);
  t.teardown(() => agent.stop());

  const kubeconfigs = new Map<string, string>();
  const kubeconfigFor = async (user?: string): Promise<string> => {
    const key = user ?? 'admin';
    const known = kubeconfigs.get(key);
    if (known) return known;
    const r = await admin(['kubeconfig', clusterId, ...(user ? ['--user', user] : [])]);
    if (r.exitCode !== 0) throw new Error(String(r.stderr));
    const file = path.join(dir, `kc-${key}.yaml`);
    writeFileSync(file, String(r.stdout));
    kubeconfigs.set(key, file);
    return file;
  };
  const kubectl = async (user: string | undefined, args: string[], env: Record<string, string> = {}, timeout = 30_000) =>
    execa(tools.kubectl(), ['--kubeconfig', await kubeconfigFor(user), '--cache-dir', path.join(dir, `cache-${user ?? 'admin'}`), ...args], { reject: false, timeout, env });

  await waitFor('RBAC propagated', async () => {
    const list = JSON.parse(String((await admin(['role', 'list', '--json', '--cluster', clusterId])).stdout)) as { propagation: string }[];
    return list.length === 3 && list.every((b) => b.propagation === 'propagated');
  }, 60_000);

  t.test('the upgrade replaced the older, wider roles', async (t) => {
    const ro = JSON.parse(String((await direct('get', 'clusterrole', 'drover-read-only', '-o', 'json')).stdout)) as { aggregationRule?: unknown; rules?: { resources?: string[] }[] };
    t.ok(ro.aggregationRule, 'drover-read-only is aggregated now');
    t.notOk((ro.rules ?? []).some((r) => (r.resources ?? []).includes('*')), 'no wildcard resources left');
    await waitFor('the controller-manager filled drover-read-only', async () => {
      const r = JSON.parse(String((await direct('get', 'clusterrole', 'drover-read-only', '-o', 'json')).stdout)) as { rules?: { resources?: string[] }[] };
      return (r.rules ?? []).some((x) => (x.resources ?? []).includes('widgets'));
    });
    const crb = await direct('get', 'clusterrolebinding', 'drover-cluster-member');
    t.not(crb.exitCode, 0, 'the cluster-wide member binding is gone');
    const rb = await waitFor('the member RoleBinding in team', async () => (await direct('get', 'rolebinding', 'drover-cluster-member', '-n', 'team')).exitCode === 0);
    t.ok(rb);
    t.not((await direct('get', 'rolebinding', 'drover-cluster-member', '-n', 'kube-system')).exitCode, 0, 'none in kube-system');
  });

  const backend = createServer((_req, res) => res.end('pod backend'));
  await new Promise<void>((r) => backend.listen(cluster.ports.podBackend, '127.0.0.1', () => r()));
  t.teardown(() => void backend.close());

  const portForward = async (user: string, env: Record<string, string>): Promise<Outcome> => {
    const pf = spawn(tools.kubectl(), ['--kubeconfig', await kubeconfigFor(user), '-n', 'team', 'port-forward', 'pod/p1', ':80'], { env: { ...process.env, ...env } });
    let out = '';
    pf.stdout.on('data', (d: Buffer) => (out += d.toString()));
    pf.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => pf.on('exit', () => r()));
    try {
      const port = await waitFor('port-forward to listen or fail', () => {
        if (pf.exitCode !== null) return 'exited';
        return /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
      });
      if (port === 'exited') return { allowed: false, detail: out };
      // The stream to the pod is opened per connection: a refusal shows here.
      const body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), (e: Error) => `failed: ${e.message}`);
      await new Promise((r) => setTimeout(r, 300));
      return { allowed: body === 'pod backend', detail: `${body} ${out}` };
    } finally {
      pf.kill();
      await exited;
    }
  };

  /** `auth can-i` answers "no" (exit 1) for Kubernetes' refusal. */
  const canIOutcome = (r: { exitCode?: number; stdout: unknown; stderr: unknown }): Outcome => {
    const answer = String(r.stdout).trim();
    if (r.exitCode === 0 && answer === 'yes') return { allowed: true, detail: answer };
    return { allowed: false, detail: answer === 'no' ? 'forbidden (auth can-i: no)' : `exit ${r.exitCode}: ${String(r.stderr)}` };
  };
  const dryRun = ['--dry-run=server'];
  const perform = async (row: RoleRow, user: string): Promise<Outcome> => {
    const run = async (args: string[], env: Record<string, string> = {}, ok: (stdout: string) => boolean = () => true, timeout?: number): Promise<Outcome> => {
      const r = await kubectl(user, args, env, timeout);
      const text = `${String(r.stdout)}\n${String(r.stderr)}`;
      if (forbidden(text)) return { allowed: false, detail: text };
      // Authorised, but kwok may not serve it (attach) or nothing listens (proxy): not a refusal.
      const proxyError = /CLUSTER_NOT_FOUND|CLUSTER_UNAVAILABLE|UPSTREAM_FAILED/.test(text);
      return { allowed: !proxyError && (r.exitCode !== 0 || ok(String(r.stdout))), detail: `exit ${r.exitCode}: ${text}` };
    };
    const strict = async (args: string[], env: Record<string, string> = {}, ok: (stdout: string) => boolean = () => true): Promise<Outcome> => {
      const r = await kubectl(user, args, env);
      const text = `${String(r.stdout)}\n${String(r.stderr)}`;
      return { allowed: r.exitCode === 0 && ok(String(r.stdout)), detail: `exit ${r.exitCode}: ${text}` };
    };
    const ns = ['-n', 'team'];
    switch (row.id) {
      case 'get-pods':
        return strict([...ns, 'get', 'pods', '-o', 'name'], {}, (o) => o.includes('pod/p1'));
      case 'logs':
        return strict([...ns, 'logs', 'p1'], {}, (o) => o.includes('fake pod started'));
      case 'get-pods-system':
        return strict(['-n', 'kube-system', 'get', 'pods']);
      case 'exec-ws':
        return strict([...ns, 'exec', 'p1', '--', 'echo', 'entered'], {}, (o) => o.trim() === 'entered');
      case 'exec-spdy':
        return strict([...ns, 'exec', 'p1', '--', 'echo', 'entered'], { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }, (o) => o.trim() === 'entered');
      case 'attach':
        // kwok serves no attach: an allowed attach fails later, a refused one says Forbidden.
        return run([...ns, 'attach', 'p1', '--pod-running-timeout=5s'], {}, () => true, 10_000);
      case 'port-forward-ws':
        return portForward(user, {});
      case 'port-forward-spdy':
        return portForward(user, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
      case 'get-secret':
        return strict([...ns, 'get', 'secret', 'db', '-o', 'jsonpath={.data.password}'], {}, (o) => Buffer.from(o, 'base64').toString() === 'hunter2');
      case 'get-secret-system':
        return strict(['-n', 'kube-system', 'get', 'secrets']);
      case 'create-token':
        return strict([...ns, 'create', 'token', 'default'], {}, (o) => o.split('.').length === 3);
      case 'impersonate-sa':
        // Not expressible through the proxy (only Drover users): asked of Kubernetes' authorizer.
        return canIOutcome(await kubectl(user, [...ns, 'auth', 'can-i', 'impersonate', 'serviceaccounts']));
      case 'create-deployment':
        return strict([...ns, 'create', 'deployment', `d-${user}`, '--image=registry.example/web:1', ...dryRun]);
      case 'create-cm-system':
        return strict(['-n', 'kube-system', 'create', 'configmap', `cm-${user}`, ...dryRun]);
      case 'service-proxy':
        return run(['get', '--raw', '/api/v1/namespaces/team/services/web:80/proxy/', '--request-timeout=10s']);
      case 'node-proxy':
        return run(['get', '--raw', `/api/v1/nodes/${node}/proxy/healthz`, '--request-timeout=10s']);
      case 'get-nodes':
        return strict(['get', 'nodes', '-o', 'name'], {}, (o) => o.includes(node));
      case 'delete-node':
        return strict(['delete', 'node', node, ...dryRun]);
      case 'create-namespace':
        return strict(['create', 'namespace', `ns-${user}`, ...dryRun]);
      case 'delete-namespace':
        return strict(['delete', 'namespace', 'team', ...dryRun]);
      case 'create-crb':
        return strict(['create', 'clusterrolebinding', `crb-${user}`, '--clusterrole=cluster-admin', `--user=drover:user:${user}`, ...dryRun]);
      case 'create-rolebinding':
        return strict([...ns, 'create', 'rolebinding', `rb-${user}`, '--clusterrole=admin', `--user=drover:user:${user}`, ...dryRun]);
      case 'create-webhook': {
        const file = path.join(dir, `webhook-${user}.yaml`);
        writeFileSync(file, `apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: hook-${user}}\nwebhooks: []\n`);
        return strict(['create', '-f', file, ...dryRun]);
      }
      case 'get-crds':
        return strict(['get', 'crd', '-o', 'name'], {}, (o) => o.includes('widgets.example.drover.dev'));
      case 'create-crd': {
        const file = path.join(dir, `crd-${user}.yaml`);
        writeFileSync(file, CRDS.split('---')[0]?.replaceAll('widgets', `things${user}`).replaceAll('Widget', 'Thing') ?? '');
        return strict(['create', '-f', file, ...dryRun]);
      }
      case 'get-widgets':
        return strict([...ns, 'get', 'widgets']);
      case 'create-widget': {
        const file = path.join(dir, `widget-${user}.yaml`);
        writeFileSync(file, `apiVersion: example.drover.dev/v1\nkind: Widget\nmetadata: {name: w-${user}, namespace: team}\n`);
        return strict(['create', '-f', file, ...dryRun]);
      }
      case 'get-gadgets':
        return strict([...ns, 'get', 'gadgets']);
      case 'kubectl-as': {
        const r = await kubectl(user, [...ns, '--as', 'drover:user:olga', 'get', 'pods']);
        const text = String(r.stderr);
        t.match(text, /IMPERSONATION_FORBIDDEN|may not impersonate/, `${user}: --as answered with a message: ${text}`);
        return { allowed: r.exitCode === 0, detail: text };
      }
      default:
        throw new Error(`no action for row ${row.id}`);
    }
  };

  for (const role of ROLES) {
    t.test(`${role}: every row of the table`, async (t) => {
      const user = USERS[role];
      // A member's rights in `team` arrive by RoleBinding: wait for them like a user would.
      if (role === 'cluster-member') await waitFor('member may create in team', async () => (await perform(ROLE_TABLE.find((r) => r.id === 'create-deployment') as RoleRow, user)).allowed);
      for (const row of ROLE_TABLE) {
        const got = await perform(row, user);
        const want = row.allowed[role];
        const right = want ? got.allowed : !got.allowed && forbidden(got.detail);
        t.ok(right, `${role} ${row.action}: ${want ? 'allowed' : 'refused with 403'}${right ? '' : ` — ${got.detail.slice(0, 500)}`}`);
      }
    });

    t.test(`${role}: kubectl auth can-i --list agrees with the table`, async (t) => {
      const lists = new Map<string, string>();
      for (const scope of ['team', 'kube-system']) {
        const r = await kubectl(USERS[role], ['auth', 'can-i', '--list', '-n', scope]);
        t.equal(r.exitCode, 0, String(r.stderr));
        lists.set(scope, String(r.stdout));
      }
      for (const row of ROLE_TABLE.filter((r) => r.resource !== '-')) {
        const list = lists.get(row.namespace === 'kube-system' ? 'kube-system' : 'team') ?? '';
        t.equal(canI(list, row.resource, row.verb), row.allowed[role], `${role}: can-i --list ${row.verb} ${row.resource} in ${row.namespace}`);
      }
    });
  }

  t.test('a member may create a namespace and work in it at once; not in kube-system', async (t) => {
    const user = USERS['cluster-member'];
    const made = await kubectl(user, ['create', 'namespace', 'mark-space']);
    t.equal(made.exitCode, 0, String(made.stderr));
    await waitFor('the member binding in the new namespace', async () => (await kubectl(user, ['-n', 'mark-space', 'create', 'configmap', 'c1'])).exitCode === 0, 15_000);
    const del = await kubectl(user, ['delete', 'namespace', 'mark-space']);
    t.not(del.exitCode, 0, 'but may not delete it');
    t.match(String(del.stderr), /forbidden/i);
  });

  t.test('helm as each role: members install releases in their namespaces, read-only cannot read them (they are Secrets)', async (t) => {
    const helm = async (user: string, ...args: string[]) =>
      execa(tools.helm(), ['--kubeconfig', await kubeconfigFor(user), ...args], {
        reject: false,
        timeout: 60_000,
        env: { HELM_CACHE_HOME: path.join(dir, 'helm-cache'), HELM_CONFIG_HOME: path.join(dir, 'helm-config'), HELM_DATA_HOME: path.join(dir, 'helm-data') },
      });
    const chart = path.join(ROOT, 'test', 'fixtures', 'chart', 'hello');
    const install = await helm(USERS['cluster-member'], 'install', 'hello', chart, '-n', 'team');
    t.equal(install.exitCode, 0, `member installs: ${String(install.stderr)}`);
    const system = await helm(USERS['cluster-member'], 'install', 'sneaky', chart, '-n', 'kube-system');
    t.not(system.exitCode, 0, 'not into kube-system');
    t.match(String(system.stderr), /forbidden/i);
    const list = await helm(USERS['read-only'], 'list', '-n', 'team');
    t.not(list.exitCode, 0, 'read-only cannot list releases (Helm keeps them in Secrets)');
    t.match(String(list.stderr), /forbidden/i);
    const values = await helm(USERS['read-only'], 'get', 'values', 'hello', '-n', 'team');
    t.not(values.exitCode, 0, "nor read a release's values");
    const owner = await helm(USERS['cluster-owner'], 'list', '-n', 'team', '-q');
    t.equal(String(owner.stdout).trim(), 'hello', 'the owner sees it');
    const deployment = await kubectl(USERS['read-only'], ['-n', 'team', 'get', 'deployment', 'hello-hello', '-o', 'name']);
    t.equal(String(deployment.stdout).trim(), 'deployment.apps/hello-hello', "read-only sees the release's workloads");
  });

  t.test("a global admin's --as gives the user's answers, audited with both names", async (t) => {
    const as = (who: string, ...args: string[]) => kubectl(undefined, ['-n', 'team', '--as', who, ...args]);
    const mine = await kubectl(undefined, ['-n', 'team', 'auth', 'can-i', 'create', 'pods']);
    t.equal(String(mine.stdout).trim(), 'yes', 'the admin may');
    const rita = await as(USERS['read-only'], 'auth', 'can-i', 'create', 'pods');
    t.equal(String(rita.stdout).trim(), 'no', `--as rita answers for rita: ${String(rita.stderr)}`);
    const mark = await as(`drover:user:${USERS['cluster-member']}`, 'auth', 'can-i', 'create', 'pods');
    t.equal(String(mark.stdout).trim(), 'yes', '--as drover:user:mark answers for mark');
    const exec = await as(USERS['read-only'], 'exec', 'p1', '--', 'echo', 'entered');
    t.not(exec.exitCode, 0);
    t.match(String(exec.stderr), /forbidden/i, "rita's exec is refused for the admin too");
    const groups = await kubectl(undefined, ['-n', 'team', '--as', USERS['cluster-member'], '--as-group', 'drover:cluster:read-only', 'auth', 'can-i', 'get', 'pods']);
    t.equal(String(groups.stdout).trim(), 'yes', '--as-group with a Drover group');
    for (const [args, re] of [
      [['--as', 'nobody'], /no Drover user/],
      [['--as', 'system:admin'], /only Drover users/],
      [['--as', USERS['read-only'], '--as-group', 'system:masters'], /only Drover groups/],
    ] as const) {
      const r = await kubectl(undefined, ['-n', 'team', ...args, 'get', 'pods']);
      t.not(r.exitCode, 0, args.join(' '));
      t.match(String(r.stderr), re, `${args.join(' ')}: ${String(r.stderr)}`);
    }
    const rows = await waitFor('the audit rows', async () => {
      const list = JSON.parse(String((await admin(['audit', 'list', '--json'])).stdout)) as { user: string; impersonated?: string; status: number; verb: string }[];
      return list.some((r) => r.impersonated === USERS['read-only']) ? list : undefined;
    });
    t.ok(rows.some((r) => r.user === 'admin' && r.impersonated === USERS['read-only'] && r.verb === 'create'), 'admin as rita: both names');
    t.ok(rows.some((r) => r.user === USERS['read-only'] && r.status === 403 && !r.impersonated), "rita's own refused --as is audited as hers");
    const verify = await admin(['audit', 'verify']);
    t.equal(verify.exitCode, 0, `the chain verifies with the new field: ${String(verify.stderr)}`);
  });
});

/** Whether `kubectl auth can-i --list` output grants `verb` on `resource` (wildcards honoured). */
function canI(list: string, resource: string, verb: string): boolean {
  const [plain = '', sub] = resource.split('/');
  const [res = '', ...group] = plain.split('.');
  const g = group.join('.');
  for (const line of list.split('\n').slice(1)) {
    const m = /^(\S+)\s/.exec(line);
    const brackets = [...line.matchAll(/\[([^\]]*)\]/g)].map((b) => b[1] ?? '');
    // Skip non-resource URLs (no first column) and grants limited to named objects.
    if (!m?.[1] || brackets.length < 3 || (brackets[brackets.length - 2] ?? '') !== '') continue;
    const verbs = (brackets[brackets.length - 1] ?? '').split(/\s+/).filter(Boolean);
    if (!verbs.includes(verb) && !verbs.includes('*')) continue;
    const [lres = '', lsub] = m[1].split('/');
    const [lname = '', ...lgroup] = lres.split('.');
    const lg = lgroup.join('.');
    const nameOk = lname === '*' || lname === res;
    const groupOk = lg === '*' || lg === g;
    const subOk = lsub === sub || (lsub === '*' && sub !== undefined) || (lname === '*' && lsub === undefined);
    if (nameOk && groupOk && subOk) return true;
  }
  return false;
}
