// `--target` values, for `drover bundle apply` and `drover gitrepo add` (Fleet's bundle/GitRepo
// `targets`): `cluster=NAME`, `group=NAME`, or a label selector (`env=edge,tier in (a,b)`).
import { parseSelectorString } from './label-selector.ts';
import type { TargetCriteria } from './targeting.ts';

/** `--target` values: `cluster=NAME`, `group=NAME`, or a label selector (`env=edge,tier in (a,b)`). */
export function parseTarget(text: string, index: number): TargetCriteria {
  const m = /^(cluster|group)=([^,=]+)$/.exec(text.trim());
  if (m?.[1] === 'cluster') return { name: `target-${index}`, clusterName: m[2] };
  if (m?.[1] === 'group') return { name: `target-${index}`, clusterGroup: m[2] };
  return { name: `target-${index}`, clusterSelector: parseSelectorString(text) };
}
