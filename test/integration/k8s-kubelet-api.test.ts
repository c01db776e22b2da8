// The harness's fake kubelets (kwok) serve exec, logs -f and port-forward for every pod, so the
// proxy tests (issue 5) can run kubectl's streaming commands end to end against real apiservers.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { startCluster, tools, criLogLine } from '../k8s/harness.ts';

const run = promisify(execFile);

t.test('kwok kubelet API: exec, logs -f and port-forward work with the real kubectl', async (t) => {
  const cluster = await startCluster();
  t.teardown(() => cluster.stop());
  const kubectl = (...args: string[]) => run(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, ...args]);
  await kubectl('run', 'p1', '--image=registry.example/p:1');
  await kubectl('wait', '--for=condition=Ready', 'pod/p1', '--timeout=60s');

  t.equal((await kubectl('exec', 'p1', '--', 'echo', 'hi')).stdout, 'hi\n', 'exec runs the command');

  // logs -f: a line appended after the follow began must arrive.
  const follow = spawn(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, 'logs', '-f', 'p1']);
  t.teardown(() => void follow.kill());
  let out = '';
  const arrived = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => out.includes(text) && resolve();
      follow.stdout.on('data', (b: Buffer) => ((out += b.toString()), check()));
      follow.once('exit', (code) => reject(new Error(`kubectl logs -f exited (${code}) before "${text}": ${out}`)));
      check();
    });
  await arrived('fake pod started');
  appendFileSync(cluster.podLog, criLogLine('a line written while following'));
  await arrived('a line written while following');
  t.pass('logs -f streamed a new line');

  // port-forward: requests to the forwarded local port reach the pod backend port.
  const backend = createServer((_req, res) => res.end('from the pod backend'));
  await new Promise<void>((r) => backend.listen(cluster.ports.podBackend, '127.0.0.1', () => r()));
  t.teardown(() => void backend.close());
  const pf = spawn(tools.kubectl(), ['--kubeconfig', cluster.kubeconfig, 'port-forward', 'pod/p1', ':80']);
  t.teardown(() => void pf.kill());
  const localPort = await new Promise<number>((resolve, reject) => {
    let buf = '';
    pf.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    pf.once('exit', (code) => reject(new Error(`port-forward exited (${code}): ${buf}`)));
  });
  const res = await fetch(`http://127.0.0.1:${localPort}/`);
  t.equal(await res.text(), 'from the pod backend', 'port-forward reached the backend');
});
