// The harness for tap tests: start a real control plane in a fresh temporary directory and get
// its kubeconfig; `stop()` ends every process it started. Pair it with `t.teardown(c.stop)`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { up, down, type ClusterState, type UpOptions } from './cluster.ts';
import { binary } from './paths.ts';

export interface TestCluster extends ClusterState {
  stop(): Promise<void>;
}

export async function startCluster(opts: UpOptions & { dir?: string; keep?: boolean } = {}): Promise<TestCluster> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'drover-k8s-'));
  const state = await up(dir, opts);
  let stopped = false;
  return {
    ...state,
    async stop() {
      if (stopped) return;
      stopped = true;
      await down(dir);
      if (!opts.dir && !opts.keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Paths of the built client tools: kubectl, helm, kustomize (and the server binaries). */
export const tools = {
  kubectl: (): string => binary('kubectl'),
  helm: (): string => binary('helm'),
  kustomize: (): string => binary('kustomize'),
};

export { up, down, readState, criLogLine } from './cluster.ts';
export { ensureBinaries } from './build.ts';
