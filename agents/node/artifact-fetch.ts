// `drover agent fetch-artifact NAME --sha256 HEX --to PATH` (issue 15, decision 1061): a node
// fetches one of the server's imported artifacts (`kubernetes/<version>/<binary>`) with its own
// credential over HTTPS with the pinned CA — the same outbound path as its tunnel, so an air-gapped
// site needs nothing else — streaming to `PATH.part` while hashing, and renames it to PATH (0755)
// only when the SHA-256 is the one its plan names. A mismatch leaves nothing at PATH: the upgrade
// plan fails at its first step, before anything on the node stops.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync, chmodSync } from 'node:fs';
import https from 'node:https';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import { AgentError } from '../common/errors.ts';
import { fsyncPath } from '../common/fsync.ts';
import { transportFor } from '../common/https-client.ts';
import type { Identity } from '../common/store.ts';

const NAME = /^kubernetes\/v\d+\.\d+\.\d+(-[0-9A-Za-z.-]{1,40})?\/[a-z0-9-]{1,64}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** No byte for this long: the link is gone (the plan's instruction timeout bounds the whole fetch). */
const IDLE_TIMEOUT_MS = 60_000;

export interface FetchResult {
  bytes: number;
  sha256: string;
}

export function checkFetchArgs(name: string, sha256: string, to: string): void {
  if (!NAME.test(name)) throw new AgentError('INVALID_CONFIG', `artifact "${name}": expected kubernetes/<version>/<binary>, like kubernetes/v1.34.4/kube-apiserver`);
  if (!SHA256.test(sha256)) throw new AgentError('INVALID_CONFIG', '--sha256: expected 64 lowercase hex digits');
  if (!to.startsWith('/')) throw new AgentError('INVALID_CONFIG', `--to "${to}": an absolute path`);
}

function get(url: string, id: Identity): Promise<IncomingMessage> {
  const transport = transportFor(id.serverUrl, process.env);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'GET', headers: { authorization: `Bearer ${id.credential}` }, agent: transport.agent ?? false, ca: id.caPem, timeout: IDLE_TIMEOUT_MS });
    req.once('timeout', () => req.destroy(new Error(`no data from the server for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.once('error', reject);
    req.once('response', resolve);
    req.end();
  });
}

export async function fetchArtifact(id: Identity, name: string, sha256: string, to: string): Promise<FetchResult> {
  checkFetchArgs(name, sha256, to);
  const url = `${id.serverUrl.replace(/\/$/, '')}/v1/agent/artifacts/${name}`;
  let res: IncomingMessage;
  try {
    res = await get(url, id);
  } catch (err) {
    throw new AgentError('SERVER_UNREACHABLE', `cannot fetch ${name} from ${id.serverUrl}: ${(err as Error).message}`);
  }
  if (res.statusCode !== 200) {
    const chunks: Buffer[] = [];
    for await (const c of res) if (chunks.length < 64) chunks.push(c as Buffer);
    throw new AgentError('SERVER_ERROR', `the server answered HTTP ${res.statusCode ?? 0} for ${name}: ${Buffer.concat(chunks).toString('utf8').slice(0, 500)}`);
  }
  mkdirSync(dirname(to), { recursive: true });
  const part = `${to}.part`;
  const hash = createHash('sha256');
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, count, createWriteStream(part, { mode: 0o600 }));
    const got = hash.digest('hex');
    if (got !== sha256) throw new AgentError('ARTIFACT_CHECKSUM_MISMATCH', `${name}: the server sent ${bytes} bytes with SHA-256 ${got}, not ${sha256} as the plan says; refused, nothing was changed`);
    fsyncPath(part);
    chmodSync(part, 0o755);
    renameSync(part, to);
    fsyncPath(dirname(to));
    return { bytes, sha256: got };
  } catch (err) {
    rmSync(part, { force: true });
    throw err;
  }
}
