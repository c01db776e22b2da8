// Limits and periods of the access work (issue 18: local endpoints, CA rotation, URL changes,
// certificate renewal), named in one place with the reason for each value.

export const ACCESS_LIMITS = Object.freeze({
  /** Default address of a cluster's local endpoint (6443 is usually the cluster's own apiserver). */
  defaultEndpointListen: '0.0.0.0:9444',
  /** Each local-endpoint CA is used for one cluster only; long-lived, since kubeconfigs embed it. */
  endpointCaLifetimeDays: 3650,
  /** Local-endpoint serving certificates: short enough to be renewed routinely (step 4). */
  endpointCertLifetimeDays: 90,
  endpointCertRenewBeforeDays: 30,
  /**
   * How often an enabled endpoint's access set is re-checked and pushed when it changed (revoked
   * tokens reach the edge within this), and its audit outbox drained. DROVER_ACCESS_SYNC_MS overrides.
   */
  syncIntervalMs: 30_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  concurrency: 16,
  agentTimeoutMs: 15_000,
  /** Audit rows pulled from one agent per sync run (then the next run continues). */
  auditDrainRounds: 20,
});

/** The sync period: DROVER_ACCESS_SYNC_MS (tests and impatient operators) or the default. */
export function accessSyncIntervalMs(env: Record<string, string | undefined>): number {
  const v = Number(env.DROVER_ACCESS_SYNC_MS);
  return Number.isInteger(v) && v >= 100 ? v : ACCESS_LIMITS.syncIntervalMs;
}

/** How often connected agents are checked for settings (trust bundle, URL) they lack: DROVER_AGENT_SETTINGS_SWEEP_MS or 10 s. */
export function agentSettingsSweepMs(env: Record<string, string | undefined>): number {
  const v = Number(env.DROVER_AGENT_SETTINGS_SWEEP_MS);
  return Number.isInteger(v) && v >= 100 ? v : 10_000;
}
