// Shared builders for the fleet agent's unit and integration tests.
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { DeploymentOptions, DeploymentStatus, DesiredDeployment, KubeObject } from './types.ts';

export function memoryDb(): Db {
  return new Database(':memory:');
}

export function configMap(name: string, namespace: string | undefined, data: Record<string, string> = { k: 'v' }): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, data };
}

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function deploymentObj(name: string, ns: string, replicas = 1, image = 'registry.example/web:1.0'): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
    },
  };
}

export function desired(id: string, revision: string, manifests: KubeObject[], options: DeploymentOptions = {}): DesiredDeployment {
  return { id, bundle: `bundle-${id}`, revision, manifests, options };
}

export function status(deploymentId: string, state: DeploymentStatus['state'], message = '', revision = 'r1'): DeploymentStatus {
  return { deploymentId, bundle: `bundle-${deploymentId}`, revision, appliedRevision: undefined, state, message, nonReady: [], modified: [] };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns a value; the deadline only turns a hang into a failure. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
