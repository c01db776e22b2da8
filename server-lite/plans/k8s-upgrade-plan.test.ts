// The Kubernetes-upgrade plan generator, and its node-side script run for real by /bin/sh against a
// temporary layout (binaries are small shell scripts, the services' stop/start commands touch
// files, the fetch is a stand-in `drover` that copies a file: the real fetch and a real
// kube-apiserver are exercised by test/e2e/k8s-upgrade.test.ts).
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPlan, planChecksum } from '../../protocol/index.ts';
import { K8sUpgradeInvalid, kubernetesUpgradePlan, UPGRADE_STEPS, type K8sUpgradeRequest } from './k8s-upgrade-plan.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const base: K8sUpgradeRequest = { version: 'v1.34.4', distribution: 'binaries', artifacts: [{ name: 'kube-apiserver', sha256: A }, { name: 'kubelet', sha256: B }] };

t.test('generator: the plan passes the plan schema, runs every step idempotently in order, rolls back on failure', async (t) => {
  const { plan } = checkPlan(kubernetesUpgradePlan(base));
  t.same(plan.instructions.map((i) => i.name), ['fetch', 'preflight', 'snapshot', 'cordon', 'stop', 'swap', 'start', 'health', 'uncordon']);
  t.ok(plan.instructions.every((i) => i.idempotent && i.command === '/bin/sh'));
  t.ok(plan.instructions.findIndex((i) => i.name === 'fetch') < plan.instructions.findIndex((i) => i.name === 'stop'), 'binaries are fetched and verified before anything stops');
  t.ok(plan.instructions.findIndex((i) => i.name === 'preflight') < plan.instructions.findIndex((i) => i.name === 'stop'));
  t.equal(plan.onFailure, 'rollback');
  t.same(plan.rollback.map((i) => i.name), ['rollback']);
  t.equal(plan.probes.length, 1);
  t.equal(plan.instructions[0]?.env.DROVER_K8S_ARTIFACTS, `kube-apiserver=${A} kubelet=${B}`);
  t.equal(plan.instructions.find((i) => i.name === 'health')?.timeoutMs, 360_000, 'health waits the health timeout plus a margin');
  t.equal(UPGRADE_STEPS.length, plan.instructions.length);
});

t.test('generator: the checksum names the release, not the order its files were listed in', async (t) => {
  const one = planChecksum(checkPlan(kubernetesUpgradePlan(base)).plan);
  const two = planChecksum(checkPlan(kubernetesUpgradePlan({ ...base, artifacts: [...base.artifacts].reverse() })).plan);
  t.equal(one, two);
  const other = planChecksum(checkPlan(kubernetesUpgradePlan({ ...base, artifacts: [{ name: 'kube-apiserver', sha256: B }] })).plan);
  t.not(one, other);
});

t.test('generator: bad requests are refused with the flag at fault', async (t) => {
  const cases: [Partial<K8sUpgradeRequest>, RegExp][] = [
    [{ version: '1.34' }, /--version "1.34"/],
    [{ artifacts: [] }, /no binaries/],
    [{ artifacts: [{ name: 'etcd', sha256: A }] }, /"etcd" is not a binary of the binaries distribution/],
    [{ artifacts: [{ name: 'kube-apiserver', sha256: 'abc' }] }, /not a SHA-256/],
    [{ artifacts: [{ name: 'kube-apiserver', sha256: A }, { name: 'kube-apiserver', sha256: A }] }, /twice/],
    [{ layout: 'etc/drover.env' }, /--layout/],
    [{ workDir: '/var/../tmp' }, /--work-dir/],
    [{ workDir: "/tmp/it's" }, /--work-dir/],
    [{ healthTimeoutS: 5 }, /--health-timeout/],
    [{ distribution: 'microk8s' as never }, /--distribution/],
  ];
  for (const [patch, msg] of cases) t.throws(() => kubernetesUpgradePlan({ ...base, ...patch }), { message: msg }, JSON.stringify(patch));
  t.ok((() => {
    try {
      kubernetesUpgradePlan({ ...base, version: 'x' });
      return false;
    } catch (err) {
      return err instanceof K8sUpgradeInvalid && err.code === 'PLAN_OPTIONS_INVALID';
    }
  })(), 'a K8sUpgradeInvalid with code PLAN_OPTIONS_INVALID');
  t.doesNotThrow(() => kubernetesUpgradePlan({ ...base, distribution: 'k3s', artifacts: [{ name: 'k3s', sha256: A }] }));
});

// --- the node-side script, run by /bin/sh -------------------------------------------------------

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const fakeBinary = (version: string, extra = ''): string => `#!/bin/sh\n# ${extra}\n[ "$1" = --version ] && { echo "Kubernetes ${version}"; exit 0; }\nexit 0\n`;

function site(t: Test, newBinary: string) {
  const dir = mkdtempSync(join(tmpdir(), 'drover-k8s-script-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['bin', 'release', 'work', 'svc']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'bin', 'kube-apiserver'), fakeBinary('v1.33.13'), { mode: 0o755 });
  writeFileSync(join(dir, 'release', 'kube-apiserver'), newBinary, { mode: 0o755 });
  // Stand-in for `drover agent fetch-artifact NAME --sha256 S --to PATH` (the real one is in the e2e test).
  writeFileSync(join(dir, 'drover'), `#!/bin/sh\necho "fetch $3" >> "${dir}/svc/fetches"\ncp "${dir}/release/$(basename "$3")" "$7"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'layout.env'), [
    `K8S_BIN_DIR=${dir}/bin`, `K8S_KUBECONFIG=${dir}/none`, `DROVER=${dir}/drover`,
    `K8S_STOP='echo stop >> ${dir}/svc/log'`, `K8S_START='echo start >> ${dir}/svc/log'`,
    `K8S_SNAPSHOT='echo snap > "$1"'`, '',
  ].join('\n'));
  const plan = checkPlan(kubernetesUpgradePlan({ version: 'v1.34.4', distribution: 'binaries', artifacts: [{ name: 'kube-apiserver', sha256: sha(newBinary) }, { name: 'kubelet', sha256: A }], layout: join(dir, 'layout.env'), workDir: join(dir, 'work') })).plan;
  const step = (name: string) => {
    const i = [...plan.instructions, ...plan.rollback].find((x) => x.name === name)!;
    // The environment the node agent gives an instruction (run-command.ts): PATH and the plan's env only.
    return spawnSync(i.command, i.args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...i.env }, encoding: 'utf8' });
  };
  return { dir, plan, step, bin: (n = 'kube-apiserver') => readFileSync(join(dir, 'bin', n), 'utf8'), svc: () => (existsSync(join(dir, 'svc', 'log')) ? readFileSync(join(dir, 'svc', 'log'), 'utf8').trim().split('\n') : []) };
}

t.test('script: a full run swaps only the binaries the node has, keeps the previous one, and a rerun changes nothing', async (t) => {
  const next = fakeBinary('v1.34.4');
  const s = site(t, next);
  for (const i of s.plan.instructions) {
    const r = s.step(i.name);
    t.equal(r.status, 0, `${i.name}: ${r.stdout}${r.stderr}`);
  }
  t.equal(s.bin(), next);
  t.equal(s.bin('kube-apiserver.previous'), fakeBinary('v1.33.13'));
  t.notOk(existsSync(join(s.dir, 'bin', 'kubelet')), 'kubelet is not on this node: nothing installed for it');
  t.same(s.svc(), ['stop', 'start']);
  t.equal(readFileSync(join(s.dir, 'work', 'v1.34.4', 'datastore.snapshot'), 'utf8'), 'snap\n');
  // kill -9 and rerun: every step again, the previous binary is still the old one.
  for (const n of ['fetch', 'swap']) t.equal(s.step(n).status, 0);
  t.equal(s.bin('kube-apiserver.previous'), fakeBinary('v1.33.13'));
  t.equal(readFileSync(join(s.dir, 'svc', 'fetches'), 'utf8').split('\n').filter(Boolean).length, 1, 'a verified staged binary is not fetched twice');
  const probe = s.plan.probes[0]!.exec!;
  t.equal(spawnSync(probe.command, probe.args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).status, 0, 'the probe runs the same script with the same values');
});

t.test('script: rollback restores the previous binary and restarts; without a swap it touches nothing', async (t) => {
  const s = site(t, fakeBinary('v1.34.4', 'crashes at start'));
  let r = s.step('rollback');
  t.equal(r.status, 0);
  t.match(r.stdout, /nothing to restore/);
  t.same(s.svc(), [], 'no stop or start when nothing was swapped');
  for (const n of ['fetch', 'preflight', 'stop', 'swap', 'start']) t.equal(s.step(n).status, 0, n);
  r = s.step('rollback');
  t.equal(r.status, 0, r.stderr);
  t.equal(s.bin(), fakeBinary('v1.33.13'));
  t.same(s.svc(), ['stop', 'start', 'stop', 'start']);
  t.equal(s.step('rollback').status, 0, 'a second rollback is a no-op');
  t.same(s.svc(), ['stop', 'start', 'stop', 'start']);
});

t.test('script: refused before anything stops — wrong checksum, wrong version, a skipped minor', async (t) => {
  const tampered = site(t, fakeBinary('v1.34.4'));
  writeFileSync(join(tampered.dir, 'release', 'kube-apiserver'), fakeBinary('v1.34.4', 'tampered'));
  let r = tampered.step('fetch');
  t.not(r.status, 0);
  t.match(r.stderr, /does not have SHA-256/);
  t.same(tampered.svc(), []);

  const wrong = site(t, fakeBinary('v1.35.0'));
  t.equal(wrong.step('fetch').status, 0);
  r = wrong.step('preflight');
  t.not(r.status, 0);
  t.match(r.stderr, /reports "Kubernetes v1.35.0", not v1.34.4/);

  const old = site(t, fakeBinary('v1.34.4'));
  writeFileSync(join(old.dir, 'bin', 'kube-apiserver'), fakeBinary('v1.32.2'), { mode: 0o755 });
  t.equal(old.step('fetch').status, 0);
  r = old.step('preflight');
  t.not(r.status, 0);
  t.match(r.stderr, /skips a minor version/);
  t.same(old.svc(), []);
  chmodSync(join(old.dir, 'bin', 'kube-apiserver'), 0o755);
  t.equal(execFileSync(join(old.dir, 'bin', 'kube-apiserver'), ['--version'], { encoding: 'utf8' }).trim(), 'Kubernetes v1.32.2', 'the running binary is untouched');
});
