// What the single executable carries besides the application, for the server to hand out:
// install.sh (GET /install.sh) and the executable itself (GET /v1/downloads/drover-linux-<arch>).
// Outside a SEA both are undefined and the server serves files from its downloads directory.
import * as nodeSea from 'node:sea';
import { INSTALL_SCRIPT_ASSET } from '../targets.ts';
import type { SeaLike } from './native-sqlite.ts';

export interface EmbeddedDownloads {
  /** install.sh as built into this executable. */
  installScriptBytes?: Uint8Array;
  /** This executable, to serve for its own architecture. */
  self?: { arch: 'amd64' | 'arm64'; path: string };
}

/** Options to spread into packaging/downloads.ts's `handleDownload(req, res, { dir, ...embeddedDownloads() })`. */
export function embeddedDownloads(
  sea: SeaLike = nodeSea,
  proc: Pick<NodeJS.Process, 'arch' | 'execPath'> = process,
): EmbeddedDownloads {
  if (!sea.isSea()) return {};
  const out: EmbeddedDownloads = {};
  try {
    out.installScriptBytes = new Uint8Array(sea.getAsset(INSTALL_SCRIPT_ASSET));
  } catch {
    // An executable built before install.sh was embedded: the downloads directory must hold it.
  }
  if (proc.arch === 'x64' || proc.arch === 'arm64') {
    out.self = { arch: proc.arch === 'x64' ? 'amd64' : 'arm64', path: proc.execPath };
  }
  return out;
}
