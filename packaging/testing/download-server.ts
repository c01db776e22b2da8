// A loopback HTTP server answering the installer's paths from a directory of artifacts, through
// the same handler server-lite mounts (packaging/downloads.ts). Tests run it as a child process:
// they call chroot synchronously, which would stall a server living on their own event loop.
//   node packaging/testing/download-server.ts DIR [INSTALL_SH] [TLS_DIR]   prints the URL, serves until killed
// With TLS_DIR (a server's data-dir/tls) it serves https with that server's certificate and answers
// GET /v1/ca like the server does, so the installer's CA pinning runs as against the real server.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { handleDownload } from '../downloads.ts';

export interface DownloadServer {
  url: string;
  close(): Promise<void>;
}

/** Serves in this process; returns the URL. */
export async function listenDownloads(dir: string, installScript?: string, tlsDir?: string): Promise<string> {
  const opts = installScript ? { dir, installScript } : { dir };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (tlsDir && req.url === '/v1/ca') {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end(fs.readFileSync(path.join(tlsDir, 'ca.crt')));
      return;
    }
    if (!handleDownload(req, res, opts)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `${req.url ?? ''} is not served here` } }));
    }
  };
  const server = tlsDir
    ? https.createServer({ cert: fs.readFileSync(path.join(tlsDir, 'server.crt')), key: fs.readFileSync(path.join(tlsDir, 'server.key')) }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${tlsDir ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Serves from a child process (this file's CLI mode); `close()` ends it. */
export async function startDownloadServer(dir: string, installScript?: string, tlsDir?: string): Promise<DownloadServer> {
  const extra = installScript ? [installScript, ...(tlsDir ? [tlsDir] : [])] : [];
  const child = spawn(process.execPath, [import.meta.filename, dir, ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`download server exited ${code}`)));
  });
  return {
    url,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (import.meta.filename === process.argv[1]) {
  const dir = path.resolve(process.argv[2] ?? 'dist');
  const script = path.resolve(process.argv[3] ?? path.join(import.meta.dirname, '..', 'install.sh'));
  const tlsDir = process.argv[4] ? path.resolve(process.argv[4]) : undefined;
  listenDownloads(dir, script, tlsDir).then((url) => process.stdout.write(`${url}\n`));
}
