// What this build is: version, protocol versions, runtime, architecture. Pure apart from
// reading the process's own constants, so `drover version` answers instantly and offline.
import pkg from '../package.json' with { type: 'json' };
import { describeVersions } from '../protocol/versions.ts';

export type Arch = 'amd64' | 'arm64';

export interface BuildInfo {
  version: string;
  protocols: string[];
  runtime: string;
  arch: Arch | string;
  platform: string;
}

/** Maps Node's `process.arch` to the names our artifacts use (`drover-linux-amd64`). */
export function archName(nodeArch: string): Arch | string {
  if (nodeArch === 'x64') return 'amd64';
  return nodeArch;
}

export function buildInfo(proc: Pick<NodeJS.Process, 'arch' | 'version' | 'platform'> = process): BuildInfo {
  return {
    version: pkg.version,
    protocols: describeVersions(),
    runtime: `node ${proc.version}`,
    arch: archName(proc.arch),
    platform: proc.platform,
  };
}
