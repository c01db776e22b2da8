// Stable error codes of agent self-upgrade and release verification (issue 16), listed in
// docs/errors-upgrade.md. The server's release import and the agent share them, so a refusal
// reads the same wherever it happens.

export const UPGRADE_ERRORS = Object.freeze({
  SUMS_INVALID: { exit: 1, summary: 'sha256sums is not in `sha256sum` format (64 hex digits, two spaces, a bare file name per line)' },
  SIGNATURE_INVALID: { exit: 1, summary: 'sha256sums.sig does not verify with the release public key built into this executable' },
  SIGNATURE_MISSING: { exit: 1, summary: 'no sha256sums.sig beside sha256sums: unsigned releases are refused' },
  ARTIFACT_MISSING: { exit: 1, summary: 'the signed sha256sums lists no executable for this CPU (drover-linux-<arch>)' },
  CHECKSUM_MISMATCH: { exit: 1, summary: "the artifact's SHA-256 differs from the one in the signed sha256sums" },
  VERSION_MISSING: { exit: 1, summary: 'the release names no version (a VERSION file listed in the signed sha256sums)' },
  NOT_UPGRADABLE: { exit: 1, summary: 'this process is not the drover executable (running from a checkout), so it cannot replace itself' },
  UPGRADE_BUSY: { exit: 1, summary: 'another upgrade of this agent is in progress' },
  SWAP_FAILED: { exit: 1, summary: 'the new executable could not be put in place; the previous one stays' },
} as const);

export type UpgradeErrorCode = keyof typeof UPGRADE_ERRORS;

export class UpgradeError extends Error {
  readonly code: UpgradeErrorCode;
  constructor(code: UpgradeErrorCode, message: string) {
    super(message);
    this.name = 'UpgradeError';
    this.code = code;
  }
}
