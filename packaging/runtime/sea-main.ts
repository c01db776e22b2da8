// The single executable's main script (issue 25, decision 1220): it only inflates and runs the
// agent's script (cli/agent-main.ts, the SEA asset APP_ASSETS.agent), which is stored
// brotli-compressed like the other assets. Node copies a SEA main onto the V8 heap as it is, and
// the 1.1 MiB it was read from stayed resident as pages of the executable beside that copy; read
// from a compressed asset, only its ~0.25 MiB of compressed pages are touched.
import { requireAsset } from './asset-module.ts';
import { APP_ASSETS } from '../targets.ts';

requireAsset(APP_ASSETS.agent);
