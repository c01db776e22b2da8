// `drover server` serves what the installer fetches (ARCHITECTURE.md §4): /install.sh and the
// executables with their checksums from the downloads directory. Real server process over HTTPS.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, request } from 'undici';
import { startServer, testDir } from '../e2e/agent-helpers.ts';

t.test('server: /install.sh and /v1/downloads/… come from the downloads directory, checksummed', async (t) => {
  const dir = testDir(t);
  const downloads = path.join(dir, 'server', 'downloads');
  mkdirSync(downloads, { recursive: true });
  const fake = Buffer.from('#!/bin/sh\necho pretend executable\n');
  writeFileSync(path.join(downloads, 'drover-linux-arm64'), fake);
  const server = await startServer(path.join(dir, 'server'), 0, { DROVER_LOG_LEVEL: 'info' });
  t.teardown(() => server.proc.stop());
  const ca = readFileSync(path.join(dir, 'server', 'tls', 'ca.crt'), 'utf8');
  const dispatcher = new Agent({ connect: { ca } });
  t.teardown(() => dispatcher.close());
  const get = async (p: string) => {
    const r = await request(`${server.url}${p}`, { dispatcher });
    return { status: r.statusCode, body: await r.body.text() };
  };

  const script = await get('/install.sh');
  t.equal(script.status, 200);
  t.equal(script.body, readFileSync(path.join(import.meta.dirname, '..', '..', 'packaging', 'install.sh'), 'utf8'), 'the repository install.sh');

  const exe = await get('/v1/downloads/drover-linux-arm64');
  t.equal(exe.status, 200);
  t.equal(exe.body, fake.toString());
  const sum = await get('/v1/downloads/drover-linux-arm64.sha256');
  t.match(sum.body, createHash('sha256').update(fake).digest('hex'), 'checksum of the served bytes');

  t.equal((await get('/v1/downloads/drover-linux-amd64')).status, 404, 'an executable that is not there is a 404');
  t.equal((await get('/v1/downloads/drover-linux-mips')).status, 404, 'unknown architectures are not served');
});
