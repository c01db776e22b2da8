// Issue 17: the main store on PostgreSQL (Debian's, test/pg/harness.ts, loopback) against SQLite
// (a file, WAL, synchronous=FULL) on the same machine: the hot paths a replica runs. Figures are
// per operation (median of the run) and ratios PostgreSQL / SQLite.
//   node bench/store-postgres.ts [--agents N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chain } from '../server-lite/audit/audit-chain.ts';
import { PgStore } from '../server-lite/store/pg-store.ts';
import { SqliteStore } from '../server-lite/store/sqlite-store.ts';
import type { Enrolment, Store } from '../server-lite/store/store.ts';
import { startPostgres } from '../test/pg/harness.ts';

const argAgents = process.argv.indexOf('--agents');
const AGENTS = argAgents > 0 ? Number(process.argv[argAgents + 1]) : 2000;

const enrolment = (n: number): Enrolment => ({
  tokenId: 'tok0000001',
  now: n,
  newCluster: { id: `c-${n}`, name: `c${n}`, labels: { site: String(n % 10) }, createdAt: n, kubernetesVersion: null },
  node: { id: `n-${n}`, clusterId: `c-${n}`, name: `n${n}`, createdAt: n, facts: {}, removedAt: null },
  agent: { id: `a-${n}`, clusterId: `c-${n}`, nodeId: `n-${n}`, hostname: `h${n}`, roles: ['cluster', 'node', 'fleet'], credentialHash: 'x'.repeat(64), prevCredentialHash: null, credentialIssuedAt: n, credentialExpiresAt: n + 1, createdAt: n, revokedAt: null, removedAt: null, lastSeen: null, facts: {} },
});

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

async function run(store: Store): Promise<Record<string, number>> {
  await store.createToken({ id: 'tok0000001', secretHash: 'h', createdAt: 0, expiresAt: null, usesMax: 0, uses: 0, clusterId: null, labels: {}, revokedAt: null });
  const out: Record<string, number> = {};
  out[`enrol (1 of ${AGENTS})`] = await timed(AGENTS, (i) => store.enrol(enrolment(i + 1)));
  out['getAgent (tunnel connect)'] = await timed(AGENTS, (i) => store.getAgent(`a-${i + 1}`));
  out[`recordFacts (${AGENTS} sequential)`] = await timed(AGENTS, (i) => store.recordFacts(`a-${i + 1}`, { os: 'linux', kubernetesVersion: 'v1.34.4' }, 10 + i));
  const batch = Array.from({ length: AGENTS }, (_, i) => ({ agentId: `a-${i + 1}`, at: 1e6 }));
  out[`touch (batch of ${AGENTS})`] = await timed(5, (i) => store.touch(batch.map((e) => ({ ...e, at: e.at + i }))));
  out['listClusters (all)'] = await timed(20, () => store.listClusters());
  let last: { seq: number; hash: string } | undefined;
  out['appendAudit (batch of 100)'] = await timed(50, async () => {
    const rows = chain(last, Array.from({ length: 100 }, (_, i) => ({ at: i, user: 'u', idp: 'local', clusterId: null, verb: 'get', path: `/p/${i}`, status: 200, latencyMs: 1 })));
    const stored = await store.appendAudit(rows);
    const l = stored.at(-1);
    if (l) last = { seq: l.seq, hash: l.hash };
  });
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'drover-bench-store-'));
const pg = await startPostgres();
try {
  const sqlite = new SqliteStore(join(dir, 'server.db'));
  const s = await run(sqlite);
  await sqlite.close();
  const pgStore = await PgStore.open(await pg.createDatabase('bench'));
  const p = await run(pgStore);
  await pgStore.close();
  console.log('operation\tsqlite ms\tpostgres ms\tratio');
  for (const k of Object.keys(s)) console.log(`${k}\t${(s[k] ?? 0).toFixed(3)}\t${(p[k] ?? 0).toFixed(3)}\t${((p[k] ?? 0) / (s[k] || 1e-9)).toFixed(2)}×`);
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
