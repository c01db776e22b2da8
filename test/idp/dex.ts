// Starts Dex (built by build-dex.ts) for a test: HTTPS on loopback with a serving certificate from
// a CA the test makes, in-memory storage, one static confidential client, and Dex's mockCallback
// connector, which signs in as the fixed user kilgore@kilgore.trout (groups: ["authors"]) with no
// login form, so a test can play the browser by following redirects. The approval screen is
// skipped. Dex reads YAML, and JSON is YAML, so the config is written with JSON.stringify.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { makePki } from '../k8s/certs.ts';
import { freePorts } from '../k8s/ports.ts';
import { ensureDex } from './build-dex.ts';

/** Who Dex's mockCallback connector signs in as (connector/mock in Dex's source). */
export const DEX_MOCK_USER = Object.freeze({ email: 'kilgore@kilgore.trout', groups: ['authors'] });

export interface DexOptions {
  clientId?: string;
  clientSecret?: string;
  /** Redirect URIs registered for the client (exact match: it is a confidential client). */
  redirectUris: string[];
}

export interface Dex {
  issuer: string;
  caFile: string;
  caPem: string;
  clientId: string;
  clientSecret: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop(): the "provider down" tests). */
  restart(): Promise<void>;
}

function getOk(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export async function startDex(dir: string, opts: DexOptions): Promise<Dex> {
  const bin = ensureDex();
  const pki = makePki(join(dir, 'pki'));
  const [port = 0] = await freePorts(1);
  const issuer = `https://127.0.0.1:${port}/dex`;
  const clientId = opts.clientId ?? 'drover';
  const clientSecret = opts.clientSecret ?? 'dex-client-secret-1';
  const config = {
    issuer,
    storage: { type: 'memory' },
    web: { https: `127.0.0.1:${port}`, tlsCert: pki.serverCert, tlsKey: pki.serverKey },
    oauth2: { skipApprovalScreen: true, responseTypes: ['code'] },
    expiry: { idTokens: '10m' },
    logger: { level: 'info', format: 'json' },
    staticClients: [{ id: clientId, secret: clientSecret, name: 'Drover', redirectURIs: opts.redirectUris }],
    connectors: [{ type: 'mockCallback', id: 'mock', name: 'Mock' }],
    enablePasswordDB: false,
  };
  const configFile = join(dir, 'dex.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const caPem = readFileSync(pki.caCert, 'utf8');
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  let out = '';
  const launch = async (): Promise<void> => {
    const proc = spawn(bin, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const keep = (b: Buffer): void => void (out = (out + b.toString()).slice(-4000));
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const deadline = Date.now() + 30_000;
    while (!(await getOk(`${issuer}/.well-known/openid-configuration`, caPem))) {
      if (proc.exitCode !== null) throw new Error(`dex exited (${child.exitCode}):\n${out}`);
      if (Date.now() > deadline) throw new Error(`dex did not answer on ${issuer}:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await launch();
  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { issuer, caFile: pki.caCert, caPem, clientId, clientSecret, port, stop, restart: launch };
}
