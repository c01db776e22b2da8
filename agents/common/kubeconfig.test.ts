// The kubeconfig reader: the forms k3s, RKE2, kubeadm and kubectl write, read without
// @kubernetes/client-node; credential plugins (exec) handed to that library; clear errors.
import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeconfig } from './kubeconfig.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const config = (cluster: string, user: string, extra = ''): string => `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
${cluster}
users:
- name: u
  user:
${user}
contexts:
- name: ctx
  context: {cluster: c, user: u}
${extra}`;

t.test('kubeconfig: inline certificate data, current-context, TLS options', async (t) => {
  const dir = t.testdir({
    'kc': config(`    server: https://10.0.0.1:6443/base\n    certificate-authority-data: ${b64('CA PEM')}\n    tls-server-name: api.internal`, `    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`, 'current-context: ctx\n'),
  });
  const k = await loadKubeconfig(join(dir, 'kc'));
  t.equal(k.server.href, 'https://10.0.0.1:6443/base');
  t.equal(k.tls.ca?.toString(), 'CA PEM');
  t.equal(k.tls.cert?.toString(), 'CERT');
  t.equal(k.tls.key?.toString(), 'KEY');
  t.equal(k.tls.servername, 'api.internal');
  t.same(k.headers, {});
  t.equal(k.via, 'kubeconfig');
});

t.test('kubeconfig: files relative to the kubeconfig, tokens, basic auth, insecure', async (t) => {
  const dir = t.testdir({ 'pki': { 'ca.crt': 'CA FILE', 'token': 'tok-from-file\n' } });
  writeFileSync(join(dir, 'files'), config('    server: https://h:6443\n    certificate-authority: pki/ca.crt', '    tokenFile: pki/token'));
  const k = await loadKubeconfig(join(dir, 'files'));
  t.equal(k.tls.ca?.toString(), 'CA FILE', 'relative to the kubeconfig, not the working directory');
  t.same(k.headers, { authorization: 'Bearer tok-from-file' }, 'one context and no current-context: that one');
  writeFileSync(join(dir, 'token'), config('    server: https://h:6443\n    insecure-skip-tls-verify: true', '    token: abc'));
  const tk = await loadKubeconfig(join(dir, 'token'));
  t.same(tk.headers, { authorization: 'Bearer abc' });
  t.equal(tk.tls.rejectUnauthorized, false);
  writeFileSync(join(dir, 'basic'), config('    server: https://h:6443', '    username: admin\n    password: s3cret'));
  t.same((await loadKubeconfig(join(dir, 'basic'))).headers, { authorization: `Basic ${b64('admin:s3cret')}` });
});

t.test('kubeconfig: clear errors for what cannot work', async (t) => {
  const dir = t.testdir({
    'two': `${config('    server: https://h', '    token: x')}- name: other\n  context: {cluster: c, user: u}\n`,
    'nouser': config('    server: https://h', '    token: x', 'current-context: nope\n'),
    'bad': 'clusters: [unclosed\n',
    'nokey': config('    server: https://h', `    client-certificate-data: ${b64('C')}`),
    'missingfile': config('    server: https://h\n    certificate-authority: /nonexistent/ca.crt', '    token: x'),
    'noserver': config('    certificate-authority-data: eA==', '    token: x'),
  });
  await t.rejects(loadKubeconfig(join(dir, 'two')), /no current-context \(and not exactly one context\)/);
  await t.rejects(loadKubeconfig(join(dir, 'nouser')), /no context named "nope"/);
  await t.rejects(loadKubeconfig(join(dir, 'bad')), /not valid YAML/);
  await t.rejects(loadKubeconfig(join(dir, 'nokey')), /needs its key/);
  await t.rejects(loadKubeconfig(join(dir, 'missingfile')), /cannot read certificate-authority \/nonexistent\/ca\.crt/);
  await t.rejects(loadKubeconfig(join(dir, 'noserver')), /has no server/);
  await t.rejects(loadKubeconfig(join(dir, 'absent')), /cannot read it/);
});

t.test('kubeconfig: an exec credential plugin is run through @kubernetes/client-node', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'bin'));
  const plugin = join(dir, 'bin', 'cred');
  writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}\'\n');
  chmodSync(plugin, 0o755);
  writeFileSync(join(dir, 'kc'), config('    server: https://h:6443', `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: Never`));
  const k = await loadKubeconfig(join(dir, 'kc'));
  t.equal(k.via, 'client-node');
  t.same(k.headers, { Authorization: 'Bearer from-plugin' });
});

t.test('kubeconfig: tokenFile wins over token (as in client-go); proxy-url is refused clearly', async (t) => {
  const dir = t.testdir({ 'tok': 'from-file\n' });
  writeFileSync(join(dir, 'both'), config('    server: https://h', '    token: inline\n    tokenFile: tok'));
  t.same((await loadKubeconfig(join(dir, 'both'))).headers, { authorization: 'Bearer from-file' });
  writeFileSync(join(dir, 'proxy'), config('    server: https://h\n    proxy-url: http://proxy:3128', '    token: x'));
  await t.rejects(loadKubeconfig(join(dir, 'proxy')), /proxy-url is not supported/);
});
