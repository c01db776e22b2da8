// Foundation acceptance: `test/k8s/cluster up DIR` run twice at once gives two independent
// clusters, and `down` leaves no process behind (checked in /proc, not trusted to the harness).
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tools } from '../k8s/harness.ts';

const run = promisify(execFile);
const clusterCmd = join(import.meta.dirname, '..', 'k8s', 'cluster');

/** PIDs of live (non-zombie) processes whose command line mentions `dir`. */
function processesMentioning(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

t.test('cluster up twice in parallel: two independent clusters; down leaves nothing running', async (t) => {
  const a = mkdtempSync(join(tmpdir(), 'drover-k8s-a-'));
  const b = mkdtempSync(join(tmpdir(), 'drover-k8s-b-'));
  t.teardown(async () => {
    await Promise.allSettled([run(clusterCmd, ['down', a]), run(clusterCmd, ['down', b])]);
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });

  const [upA, upB] = await Promise.all([run(clusterCmd, ['up', a]), run(clusterCmd, ['up', b])]);
  t.match(upA.stdout, /cluster up in/);
  t.match(upB.stdout, /cluster up in/);
  t.ok(processesMentioning(a).length >= 5, 'cluster A runs etcd, apiserver, controller-manager, scheduler, kwok');
  t.ok(processesMentioning(b).length >= 5, 'cluster B likewise');

  const kubectl = (dir: string, ...args: string[]) => run(tools.kubectl(), ['--kubeconfig', join(dir, 'kubeconfig'), ...args]);
  const serverOf = async (dir: string) => (await kubectl(dir, 'config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}')).stdout;
  t.not(await serverOf(a), await serverOf(b), 'different API endpoints');

  await kubectl(a, 'create', 'namespace', 'only-in-a');
  await kubectl(a, 'get', 'namespace', 'only-in-a');
  await t.rejects(kubectl(b, 'get', 'namespace', 'only-in-a'), /NotFound|not found/, 'B has its own etcd');
  // B's CA did not sign A's certificates.
  await t.rejects(
    run(tools.kubectl(), ['--kubeconfig', join(b, 'kubeconfig'), '--server', await serverOf(a), 'get', '--raw', '/version']),
    /certificate|x509|tls/i,
  );

  await run(clusterCmd, ['down', a]);
  t.same(processesMentioning(a), [], 'down A leaves no process of A');
  t.ok(processesMentioning(b).length >= 5, 'B unaffected by A going down');
  await kubectl(b, 'get', '--raw', '/readyz');
  await run(clusterCmd, ['down', b]);
  t.same(processesMentioning(b), [], 'down B leaves no process of B');
  const again = await run(clusterCmd, ['down', b]);
  t.equal(again.stderr, '', 'down is idempotent');
});

t.test('cluster: usage errors exit 2', async (t) => {
  const err = await run(clusterCmd, ['sideways']).then(() => undefined, (e: unknown) => e as { code: number; stderr: string });
  t.equal(err?.code, 2);
  t.match(err?.stderr, /usage: test\/k8s\/cluster up DIR/);
});
