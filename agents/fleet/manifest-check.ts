// Checks a manifest set before it is stored: every entry an object with apiVersion, kind and
// metadata.name, no object named twice, not more than the limit. A refused set is never stored,
// so nothing of it is half-applied and the previous revision stays in force.
import type { KubeObject } from './types.ts';
import { FleetAgentError } from './errors.ts';
import { FLEET_AGENT_LIMITS } from './limits.ts';
import { keyOf, refOf } from './object-ref.ts';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateManifests(manifests: unknown, max: number = FLEET_AGENT_LIMITS.MAX_OBJECTS_PER_DEPLOYMENT): asserts manifests is KubeObject[] {
  if (!Array.isArray(manifests)) throw new FleetAgentError('MANIFEST_INVALID', 'the manifest set is not a list');
  if (manifests.length > max) throw new FleetAgentError('TOO_MANY_OBJECTS', `${manifests.length} objects, at most ${max}`);
  const seen = new Set<string>();
  manifests.forEach((m: unknown, i) => {
    if (!isRecord(m)) throw new FleetAgentError('MANIFEST_INVALID', `manifest #${i} is not an object`);
    const meta = m.metadata;
    if (typeof m.apiVersion !== 'string' || m.apiVersion === '' || typeof m.kind !== 'string' || m.kind === '' ||
      !isRecord(meta) || typeof meta.name !== 'string' || meta.name === '') {
      throw new FleetAgentError('MANIFEST_INVALID', `manifest #${i} needs apiVersion, kind and metadata.name`);
    }
    if (meta.namespace !== undefined && typeof meta.namespace !== 'string') throw new FleetAgentError('MANIFEST_INVALID', `manifest #${i}: metadata.namespace is not a string`);
    const key = keyOf(refOf(m as KubeObject));
    if (seen.has(key)) throw new FleetAgentError('DUPLICATE_OBJECT', `${m.kind} ${String(meta.namespace ?? '')}/${meta.name} appears twice`);
    seen.add(key);
  });
}
