// `drover server` replicas as real processes for the HA e2e tests (issue 17): each with its own data
// dir (the first one's tls/, admin-token and secrets.key copied in, docs/ha.md), a free --listen
// port and a free --advertise-address port on loopback, one shared --datastore.
import path from 'node:path';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { Proc, waitFor } from '../e2e/agent-helpers.ts';
import { freePort } from './haproxy.ts';

export interface ReplicaProc {
  name: string;
  /** Its data dir (server.json there names its own URL: `--data-dir` CLI calls reach this replica). */
  dataDir: string;
  url: string;
  port: number;
  /** The replica id it logged. */
  id: string;
  proc: Proc;
}

export async function startReplicaProc(dir: string, name: string, datastore: string, env: Record<string, string>, copyFrom?: string): Promise<ReplicaProc> {
  const dataDir = path.join(dir, name);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (copyFrom) {
    cpSync(path.join(copyFrom, 'tls'), path.join(dataDir, 'tls'), { recursive: true });
    for (const f of ['admin-token', 'secrets.key']) if (existsSync(path.join(copyFrom, f))) cpSync(path.join(copyFrom, f), path.join(dataDir, f));
  }
  const [port, peer] = [await freePort(), await freePort()];
  const proc = new Proc(['server', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--datastore', datastore, '--advertise-address', `127.0.0.1:${peer}`], {
    DROVER_LOG_LEVEL: 'info', ...env,
  });
  const up = await waitFor(`replica ${name}`, () => {
    if (!proc.running) throw new Error(`replica ${name} exited: ${proc.output.slice(-2000)}`);
    return proc.logs().find((l) => l.msg === 'HA replica: peer listener up');
  });
  return { name, dataDir, url: `https://127.0.0.1:${port}`, port, id: String(up.replicaId), proc };
}
