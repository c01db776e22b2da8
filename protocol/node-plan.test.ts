import t from 'tap';
import { checkPlan, planChecksum, planSteps, PlanInvalid, durationMs } from './node-plan.ts';

const good = {
  kind: 'Plan',
  files: [{ path: '/etc/demo/motd', content: 'hello\n', mode: '0600' }],
  instructions: [{ name: 'say', command: '/bin/echo', args: ['hi'], timeout: '30s', idempotent: true }],
};

function problems(doc: unknown): string[] {
  try {
    checkPlan(doc);
  } catch (err) {
    if (err instanceof PlanInvalid) return err.problems;
    throw err;
  }
  return [];
}

t.test('plan: a good plan is put in normal form with defaults filled in', async (t) => {
  const { plan } = checkPlan(good);
  t.same(plan.files, [{ path: '/etc/demo/motd', directory: false, base64: Buffer.from('hello\n').toString('base64'), mode: 0o600 }]);
  t.same(plan.instructions, [{ name: 'say', command: '/bin/echo', args: ['hi'], env: {}, idempotent: true, timeoutMs: 30_000 }]);
  t.equal(plan.onFailure, 'rollback');
  t.same(planSteps(plan).map((s) => s.kind), ['file', 'instruction']);
});

t.test('plan: the checksum is of the canonical form, so two spellings of one plan agree', async (t) => {
  const a = planChecksum(checkPlan(good).plan);
  const b = planChecksum(checkPlan({
    instructions: [{ timeout: 30, args: ['hi'], command: '/bin/echo', idempotent: true, name: 'say', env: {} }],
    files: [{ mode: '600', content: 'hello\n', path: '/etc/demo/motd' }],
    kind: 'Plan', onFailure: 'rollback', metadata: { name: 'other-name' },
  }).plan);
  t.equal(a, b);
  t.match(a, /^[0-9a-f]{64}$/);
  t.not(planChecksum(checkPlan({ ...good, onFailure: 'pause' }).plan), a, 'a change of content changes it');
});

t.test('plan: unknown keys are refused and named', async (t) => {
  t.match(problems({ ...good, instructions: [{ command: '/bin/true', timeout: '1s', timout: '1s' }] }).join(), /instructions\[0\].*timout/);
  t.match(problems({ ...good, extra: 1 }).join(), /extra/);
});

t.test('plan: relative paths and ".." are refused', async (t) => {
  t.match(problems({ kind: 'Plan', files: [{ path: 'etc/x', content: '' }] }).join(), /files\[0\]\.path: "etc\/x" is a relative path/);
  t.match(problems({ kind: 'Plan', files: [{ path: '/etc/../root/x', content: '' }] }).join(), /contains "\.\."/);
  t.match(problems({ kind: 'Plan', instructions: [{ command: '/bin/true', timeout: '1s', workingDir: 'tmp' }] }).join(), /workingDir: "tmp" is a relative path/);
});

t.test('plan: missing fields and an instruction without a timeout are refused', async (t) => {
  t.match(problems({ kind: 'Plan', instructions: [{ command: '/bin/true' }] }).join(), /instructions\[0\]\.timeout: is required/);
  t.match(problems({ kind: 'Plan', rollback: [{ command: '/bin/true' }], instructions: [{ command: '/bin/true', timeout: 1 }] }).join(), /rollback\[0\]\.timeout: is required/);
  t.match(problems({ kind: 'Plan', instructions: [{ timeout: '1s' }] }).join(), /instructions\[0\]\.command: is required/);
  t.match(problems({ files: [] }).join(), /kind/);
  t.match(problems({ kind: 'Plan' }).join(), /nothing to do/);
  t.match(problems({ kind: 'Plan', probes: [{ initialDelay: '1s' }] }).join(), /exactly one of http or exec/);
  t.match(problems({ kind: 'Plan', instructions: [{ command: '/bin/true', timeout: 'soon' }] }).join(), /not a duration/);
  t.match(problems({ kind: 'Plan', files: [{ path: '/a', content: 'x', base64: 'eA==' }] }).join(), /content or base64/);
  t.match(problems({ kind: 'Plan', files: [{ path: '/a', content: 'x', mode: 644 }] }).join(), /files\[0\]\.mode/);
  t.match(problems({ kind: 'Plan', instructions: [{ name: 'a', command: '/bin/true', timeout: 1 }, { name: 'a', command: '/bin/true', timeout: 1 }] }).join(), /used twice/);
});

t.test('plan: durations', async (t) => {
  t.equal(durationMs('1h30m'), 5_400_000);
  t.equal(durationMs('500ms'), 500);
  t.equal(durationMs(2), 2000);
  t.equal(durationMs('2 minutes'), undefined);
  t.equal(durationMs(-1), undefined);
});
