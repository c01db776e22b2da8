// What the fleet end-to-end tests share: a server that renders with the harness's helm and
// kustomize, and a fleet agent registered to a harness cluster, started, and connected.
import path from 'node:path';
import { tools } from '../k8s/harness.ts';
import { agentStatus, createToken, drover, startAgent, waitFor, type Proc, type ServerProc } from './agent-helpers.ts';

/** `drover server` environment: the built helm and kustomize, info logs (tests read them). */
export function fleetServerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { DROVER_HELM: tools.helm(), DROVER_KUSTOMIZE: tools.kustomize(), DROVER_LOG_LEVEL: 'info', ...extra };
}

/** `drover agent run --roles fleet` environment: a reconcile pass every second. */
export const FLEET_AGENT_ENV: Readonly<Record<string, string>> = Object.freeze({ DROVER_FLEET_INTERVAL_MS: '1000', DROVER_LOG_LEVEL: 'info' });

export interface FleetAgent {
  id: string;
  name: string;
  dir: string;
  agent: Proc;
  kubeconfig: string;
}

/** Registers a cluster with these labels (a token scoped to them), starts its fleet agent, waits until connected. */
export async function joinFleetAgent(server: ServerProc, opts: { dir: string; name: string; labels: string; kubeconfig: string }): Promise<FleetAgent> {
  const token = await createToken(server.dataDir, ['--labels', opts.labels]);
  const reg = await drover(['agent', 'register', '--server', server.url, '--token', token, '--name', opts.name, '--labels', opts.labels, '--kubeconfig', opts.kubeconfig, '--data-dir', opts.dir]);
  if (reg.exitCode !== 0) throw new Error(`register ${opts.name}: ${reg.stderr}`);
  const agent = startAgent(opts.dir, ['--roles', 'fleet'], { ...FLEET_AGENT_ENV });
  const s = await waitFor(`agent ${opts.name} connected`, async () => {
    const st = await agentStatus(opts.dir);
    return st.roles.find((r) => r.name === 'fleet')?.state === 'connected' ? st : undefined;
  });
  return { id: s.clusterId, name: opts.name, dir: opts.dir, agent, kubeconfig: opts.kubeconfig };
}

export const agentDirIn = (dir: string, name: string): string => path.join(dir, `agent-${name}`);
