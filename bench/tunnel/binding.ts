// Binds the benchmark's TunnelBinding to protocol/index.ts. Placeholder until protocol/ commits
// its public API: loading this module reports the tunnel figures as not yet measurable.

import type { TunnelBinding } from './harness.ts';

export const binding: TunnelBinding | undefined = undefined;
