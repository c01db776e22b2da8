// Unit tests for the installer's download endpoints (ARCHITECTURE.md §4), over a real HTTP
// server on 127.0.0.1 port 0.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { handleDownload, type DownloadsOptions } from './downloads.ts';

async function serve(t: { teardown(fn: () => void): void }, opts: DownloadsOptions): Promise<string> {
  const server = http.createServer((req, res) => {
    if (!handleDownload(req, res, opts)) {
      res.writeHead(418).end('not ours');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function dir(t: { teardown(fn: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'drover-downloads-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

t.test('downloads: serves the executable and a sha256sum-format checksum of it', async (t) => {
  const d = dir(t);
  fs.writeFileSync(path.join(d, 'drover-linux-amd64'), 'amd64 bytes');
  const url = await serve(t, { dir: d });
  const exe = await fetch(`${url}/v1/downloads/drover-linux-amd64`);
  t.equal(exe.status, 200);
  t.equal(exe.headers.get('content-type'), 'application/octet-stream');
  t.equal(await exe.text(), 'amd64 bytes');
  const sum = await fetch(`${url}/v1/downloads/drover-linux-amd64.sha256`);
  t.equal(await sum.text(), `${sha('amd64 bytes')}  drover-linux-amd64\n`);
});

t.test('downloads: the checksum follows a replaced executable (no stale cache)', async (t) => {
  const d = dir(t);
  const file = path.join(d, 'drover-linux-arm64');
  fs.writeFileSync(file, 'v1');
  const url = await serve(t, { dir: d });
  t.match(await (await fetch(`${url}/v1/downloads/drover-linux-arm64.sha256`)).text(), sha('v1'));
  fs.rmSync(file);
  fs.writeFileSync(file, 'version two');
  t.match(await (await fetch(`${url}/v1/downloads/drover-linux-arm64.sha256`)).text(), sha('version two'));
});

t.test('downloads: a server running as the executable serves itself for its own architecture', async (t) => {
  const d = dir(t);
  const self = path.join(d, 'self-exe');
  fs.writeFileSync(self, 'me');
  const url = await serve(t, { dir: path.join(d, 'empty'), self: { arch: 'arm64', path: self } });
  t.equal(await (await fetch(`${url}/v1/downloads/drover-linux-arm64`)).text(), 'me');
  const other = await fetch(`${url}/v1/downloads/drover-linux-amd64`);
  t.equal(other.status, 404);
  t.same(((await other.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
});

t.test('downloads: /install.sh comes from the directory, else from the given script', async (t) => {
  const d = dir(t);
  const script = path.join(d, 'fallback.sh');
  fs.writeFileSync(script, '#!/bin/sh\necho fallback\n');
  const url = await serve(t, { dir: d, installScript: script });
  const res = await fetch(`${url}/install.sh`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /shellscript/);
  t.equal(await res.text(), '#!/bin/sh\necho fallback\n');
  fs.writeFileSync(path.join(d, 'install.sh'), '#!/bin/sh\necho dir\n');
  t.equal(await (await fetch(`${url}/install.sh`)).text(), '#!/bin/sh\necho dir\n');
});

t.test('downloads: other paths are left to the caller; traversal and unknown arches never match', async (t) => {
  const d = dir(t);
  fs.writeFileSync(path.join(d, 'secret'), 'x');
  const url = await serve(t, { dir: d });
  for (const p of ['/healthz', '/v1/downloads/secret', '/v1/downloads/drover-linux-riscv64', '/v1/downloads/../secret', '/v1/downloads/%2e%2e%2fsecret']) {
    t.equal((await fetch(`${url}${p}`)).status, 418, p);
  }
});

t.test('downloads: HEAD gives the length without a body; POST is 405 METHOD_NOT_ALLOWED', async (t) => {
  const d = dir(t);
  fs.writeFileSync(path.join(d, 'drover-linux-amd64'), '12345');
  const url = await serve(t, { dir: d });
  const head = await fetch(`${url}/v1/downloads/drover-linux-amd64`, { method: 'HEAD' });
  t.equal(head.headers.get('content-length'), '5');
  const post = await fetch(`${url}/v1/downloads/drover-linux-amd64`, { method: 'POST' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');
});

t.test('downloads: the checksum the build published wins, so an executable altered on disk is caught', async (t) => {
  const d = dir(t);
  fs.writeFileSync(path.join(d, 'drover-linux-amd64'), 'altered');
  fs.writeFileSync(path.join(d, 'drover-linux-amd64.sha256'), `${sha('built')}  drover-linux-amd64\n`);
  fs.writeFileSync(path.join(d, 'drover-linux-arm64'), 'arm');
  fs.writeFileSync(path.join(d, 'sha256sums'), `${sha('x')}  drover-linux-amd64.tar.gz\n${sha('arm built')}  drover-linux-arm64\n`);
  const url = await serve(t, { dir: d });
  t.equal(await (await fetch(`${url}/v1/downloads/drover-linux-amd64.sha256`)).text(), `${sha('built')}  drover-linux-amd64\n`);
  t.equal(await (await fetch(`${url}/v1/downloads/drover-linux-arm64.sha256`)).text(), `${sha('arm built')}  drover-linux-arm64\n`);
});

t.test('downloads: /install.sh falls back to the bytes embedded in the executable', async (t) => {
  const url = await serve(t, { dir: dir(t), installScriptBytes: new TextEncoder().encode('#!/bin/sh\necho embedded\n') });
  const res = await fetch(`${url}/install.sh`);
  t.equal(res.status, 200);
  t.equal(await res.text(), '#!/bin/sh\necho embedded\n');
});
