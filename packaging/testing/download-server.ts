// A loopback HTTP server answering the installer's paths from a directory of artifacts, through
// the same handler server-lite mounts (packaging/downloads.ts). Used by the packaging tests.
//   node packaging/testing/download-server.ts DIR   prints the URL, serves until killed
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { handleDownload } from '../downloads.ts';

export interface DownloadServer {
  url: string;
  close(): Promise<void>;
}

export async function startDownloadServer(dir: string, installScript?: string): Promise<DownloadServer> {
  const server = http.createServer((req, res) => {
    const opts = installScript ? { dir, installScript } : { dir };
    if (!handleDownload(req, res, opts)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `${req.url ?? ''} is not served here` } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.filename === process.argv[1]) {
  const dir = path.resolve(process.argv[2] ?? 'dist');
  const script = path.resolve(import.meta.dirname, '..', 'install.sh');
  startDownloadServer(dir, script).then((s) => process.stdout.write(`${s.url}\n`));
}
