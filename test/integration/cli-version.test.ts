// The `drover` CLI from a checkout (./bin/drover): version output shapes (ARCHITECTURE.md §3
// contract) and usage errors, run as a real process.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';

const run = promisify(execFile);
const drover = join(import.meta.dirname, '..', '..', 'bin', 'drover');

t.test('drover version --json has the contract fields', async (t) => {
  const { stdout } = await run(drover, ['version', '--json']);
  const v = JSON.parse(stdout) as Record<string, unknown>;
  t.type(v.version, 'string');
  t.ok(Array.isArray(v.protocols) && v.protocols.length > 0, 'protocols is a non-empty list');
  t.match(v.runtime, /^node v24\./, 'runs on the Node 24 the executables ship');
  t.equal(v.arch, process.arch === 'x64' ? 'amd64' : process.arch);
});

t.test('drover version prints a human summary', async (t) => {
  const { stdout } = await run(drover, ['version']);
  t.match(stdout, /^drover \d+\.\d+\.\d+/);
  t.match(stdout, /protocols: /);
});

t.test('drover --help lists commands and exits 0', async (t) => {
  const { stdout } = await run(drover, ['--help']);
  t.match(stdout, /Usage: drover/);
  t.match(stdout, /version/);
});

t.test('an unknown command is a usage error: exit 2 and a hint', async (t) => {
  const err = await run(drover, ['frobnicate']).then(() => undefined, (e: unknown) => e as { code: number; stderr: string });
  t.equal(err?.code, 2);
  t.match(err?.stderr, /unknown command 'frobnicate'/);
});

t.test('output into a pipe closed early (`drover … | head -1`) ends quietly, no stack trace', async (t) => {
  const { spawn } = await import('node:child_process');
  const child = spawn(drover, ['--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before drover writes
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  t.equal(code, 0);
  t.notMatch(stderr, /EPIPE|Unhandled|at /, stderr);
});
