// CLI exit codes: a public contract (ARCHITECTURE.md §3). Scripts branch on these numbers.
export const EXIT = Object.freeze({
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  SERVER_UNREACHABLE: 3,
  CREDENTIAL_REJECTED: 4,
  CA_MISMATCH: 5,
} as const);

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
