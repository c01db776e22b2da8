// Issue 24, on a real apiserver with unmodified kubectl through the server's proxy: a user whose only
// role is project-member of a project creates a Deployment in the project's namespace, is refused in
// another namespace and for cluster-scoped writes; `kubectl get ns` is a clear Forbidden. Namespaces
// added to the project later (also ones created afterwards) open up, removed ones close, and a
// deleted project takes its access with it. Bad input is refused with a message and nothing stored.
import t from 'tap';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { startCluster, tools } from '../k8s/harness.ts';
import { agentStatus, createToken, drover, startAgent, startServer, waitFor, testDir } from './agent-helpers.ts';

const forbidden = (text: string): boolean => /forbidden/i.test(text);

t.test('projects: a project-member works in the project namespaces only', async (t) => {
  const cluster = await startCluster({ nodes: 1 });
  t.teardown(() => cluster.stop());
  const dir = testDir(t);
  const serverDir = path.join(dir, 'server');
  const server = await startServer(serverDir);
  t.teardown(() => server.proc.stop());
  const admin = (args: string[]) => drover([...args, '--data-dir', serverDir]);
  const direct = (...args: string[]) => execa(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args], { reject: false, timeout: 60_000 });
  for (const ns of ['shop-dev', 'other']) t.equal((await direct('create', 'namespace', ns)).exitCode, 0);

  const agentDir = path.join(dir, 'agent');
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', await createToken(serverDir), '--name', 'site', '--kubeconfig', cluster.kubeconfig, '--data-dir', agentDir]);
  t.equal(reg.exitCode, 0, 'registered');
  const clusterId = (await agentStatus(agentDir)).clusterId;
  const agent = startAgent(agentDir, ['--roles', 'cluster']);
  t.teardown(() => agent.stop());

  t.equal((await admin(['user', 'create', 'carol'])).exitCode, 0);
  const created = await admin(['project', 'create', 'shop', '--cluster', clusterId, '--namespaces', 'shop-dev']);
  t.equal(created.exitCode, 0, created.stderr);
  t.equal((await admin(['role', 'bind', 'carol', '--project', 'shop', '--role', 'project-member'])).exitCode, 0);

  // Bad input: refused with a message, nothing stored.
  const wrongRole = await admin(['role', 'bind', 'carol', '--project', 'shop', '--role', 'cluster-member']);
  t.equal(wrongRole.exitCode, 2, 'a cluster role with --project is a usage error');
  t.match(wrongRole.stderr, /project-owner, project-member, read-only/);
  const protectedNs = await admin(['project', 'create', 'sys', '--cluster', clusterId, '--namespaces', 'kube-system']);
  t.equal(protectedNs.exitCode, 1);
  t.match(protectedNs.stderr, /protected namespaces/);
  const taken = await admin(['project', 'create', 'shop2', '--cluster', clusterId, '--namespaces', 'shop-dev']);
  t.match(taken.stderr, /already belongs to project shop/);
  t.match((await admin(['project', 'create', 'shop', '--cluster', clusterId])).stderr, /PROJECT_EXISTS/);
  t.match((await admin(['project', 'create', 'Bad_Name', '--cluster', clusterId])).stderr, /lowercase/);
  const list = JSON.parse((await admin(['project', 'list', '--json'])).stdout) as { name: string; namespaces: string[]; bindings: { user: string; role: string }[] }[];
  t.match(list, [{ name: 'shop', namespaces: ['shop-dev'], bindings: [{ user: 'carol', role: 'project-member' }] }], 'only the good project was stored');

  const kc = await admin(['kubeconfig', clusterId, '--user', 'carol']);
  t.equal(kc.exitCode, 0, kc.stderr);
  const kubeconfig = path.join(dir, 'carol.yaml');
  writeFileSync(kubeconfig, kc.stdout);
  const carol = (...args: string[]) => execa(tools.kubectl(), ['--kubeconfig', kubeconfig, '--cache-dir', path.join(dir, 'cache'), ...args], { reject: false, timeout: 60_000 });

  await waitFor('carol may create deployments in shop-dev', async () => String((await carol('auth', 'can-i', 'create', 'deployments', '-n', 'shop-dev')).stdout).trim() === 'yes', 60_000);
  const made = await carol('create', 'deployment', 'web', '--image=registry.example/web:1', '-n', 'shop-dev');
  t.equal(made.exitCode, 0, `created in the project namespace: ${String(made.stderr)}`);
  t.equal((await carol('get', 'deployment', 'web', '-n', 'shop-dev', '-o', 'name')).stdout, 'deployment.apps/web');
  const elsewhere = await carol('create', 'deployment', 'web', '--image=registry.example/web:1', '-n', 'other');
  t.not(elsewhere.exitCode, 0);
  t.ok(forbidden(String(elsewhere.stderr)), `refused in another namespace: ${String(elsewhere.stderr)}`);
  const clusterWrite = await carol('create', 'namespace', 'carols');
  t.ok(clusterWrite.exitCode !== 0 && forbidden(String(clusterWrite.stderr)), `refused a cluster-scoped write: ${String(clusterWrite.stderr)}`);
  const ns = await carol('get', 'namespaces');
  t.ok(ns.exitCode !== 0 && forbidden(String(ns.stderr)), `kubectl get ns is a clear Forbidden: ${String(ns.stderr)}`);
  const secrets = await carol('get', 'secrets', '-n', 'kube-system');
  t.ok(secrets.exitCode !== 0 && forbidden(String(secrets.stderr)), 'nothing in kube-system');

  // A namespace added to the project before it exists opens up when it is created.
  t.equal((await admin(['project', 'add-namespaces', 'shop', 'shop-prod'])).exitCode, 0);
  t.equal((await direct('create', 'namespace', 'shop-prod')).exitCode, 0);
  await waitFor('carol may create in shop-prod', async () => String((await carol('auth', 'can-i', 'create', 'deployments', '-n', 'shop-prod')).stdout).trim() === 'yes', 60_000);

  // Removed: access there goes; the namespace and its workloads stay.
  t.equal((await admin(['project', 'remove-namespaces', 'shop', 'shop-dev'])).exitCode, 0);
  await waitFor('carol refused in shop-dev', async () => String((await carol('auth', 'can-i', 'create', 'deployments', '-n', 'shop-dev')).stdout).trim() === 'no', 60_000);
  t.equal((await direct('get', 'deployment', 'web', '-n', 'shop-dev', '-o', 'name')).stdout, 'deployment.apps/web', 'the workload stays');

  const got = await admin(['project', 'get', 'shop']);
  t.match(got.stdout, /Namespaces:\s+shop-prod[\s\S]*carol\s+project-member/);

  // Deleted: the project's RoleBindings go, carol can do nothing on the cluster.
  t.equal((await admin(['project', 'delete', 'shop'])).exitCode, 0);
  await waitFor('no project RoleBindings left', async () => String((await direct('get', 'rolebindings', '-A', '-l', 'drover.dev/project=shop', '-o', 'name')).stdout).trim() === '', 60_000);
  const after = await carol('get', 'deployments', '-n', 'shop-prod');
  t.not(after.exitCode, 0, 'carol has no access left');
  t.equal((await admin(['project', 'get', 'shop'])).exitCode, 1);
});
