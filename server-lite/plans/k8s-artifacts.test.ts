// The server's store of imported Kubernetes binaries: hashed while streamed in, kept only when the
// hash is the one named, immutable per version and name.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { K8sArtifactStore } from './k8s-artifacts.ts';
import { PlanError } from './errors.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const body = (b: Buffer): Readable => Readable.from([b.subarray(0, 3), b.subarray(3)]);

t.test('artifacts: a wrong SHA-256 keeps nothing; the right one is stored and served; another content for the same version is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-artifacts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = new K8sArtifactStore(dir);
  const bin = Buffer.from('#!/bin/sh\necho v1.34.4\n');
  await t.rejects(s.put('v1.34.4', 'kube-apiserver', sha(Buffer.from('other')), body(bin)), { code: 'ARTIFACT_CHECKSUM_MISMATCH' });
  t.equal(s.get('v1.34.4', 'kube-apiserver'), undefined);
  t.same(readdirSync(join(dir, 'artifacts', 'kubernetes', 'v1.34.4')), [], 'no temp file left behind');

  const a = await s.put('v1.34.4', 'kube-apiserver', sha(bin), body(bin));
  t.equal(a.created, true);
  t.equal(readFileSync(a.path, 'utf8'), bin.toString());
  t.same(s.get('v1.34.4', 'kube-apiserver'), { path: a.path, version: 'v1.34.4', name: 'kube-apiserver', sha256: sha(bin), size: bin.length });
  t.equal((await s.put('v1.34.4', 'kube-apiserver', sha(bin), body(bin))).created, false, 'the same import again is a no-op');
  const other = Buffer.from('tampered');
  await t.rejects(s.put('v1.34.4', 'kube-apiserver', sha(other), body(other)), { code: 'ARTIFACT_EXISTS' });
  t.same(s.list().map((x) => `${x.version}/${x.name}`), ['v1.34.4/kube-apiserver']);
});

t.test('artifacts: names are checked before any byte is written', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-artifacts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s = new K8sArtifactStore(dir);
  const b = Buffer.from('x');
  for (const [v, n, h] of [['1.34', 'kube-apiserver', sha(b)], ['v1.34.4', '../etc/passwd', sha(b)], ['v1.34.4', 'etcd', sha(b)], ['v1.34.4', 'kubelet', 'nothex']] as const) {
    await t.rejects(s.put(v, n, h, body(b)), PlanError, `${v} ${n} ${h}`);
  }
  t.notOk(existsSync(join(dir, 'artifacts')), 'nothing created');
});
