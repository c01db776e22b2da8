// Error registry of releases and agent upgrades on the server (docs/errors-upgrade.md): every code
// `/v1/releases` and `/v1/upgrades` answer with, with its HTTP status. Verification failures keep
// the shared codes of protocol/release-errors.ts (SIGNATURE_INVALID, CHECKSUM_MISMATCH, …).
import { UPGRADE_ERRORS, type UpgradeErrorCode } from '../../protocol/release-errors.ts';
import { ANSWERED_AS_IS } from '../errors.ts';

export const RELEASE_API_ERRORS = Object.freeze({
  RELEASE_NOT_FOUND: { status: 404, message: 'no release of that version is imported (see drover release list)' },
  RELEASE_IN_USE: { status: 409, message: 'an agent upgrade to that version is running or halted: start another upgrade first' },
  RELEASE_INVALID: { status: 400, message: 'the release upload is malformed (headers, version, architecture)' },
  RELEASE_KEY_MISSING: { status: 500, message: 'this server has no release public key built in (a development run without the build cache key)' },
  UPGRADE_OPTIONS_INVALID: { status: 400, message: 'an upgrade option (--version, --target, --max-unavailable, --canary) is malformed' },
  UPGRADE_NOT_FOUND: { status: 404, message: 'no agent upgrade has been started' },
} as const);

export type ReleaseApiErrorCode = keyof typeof RELEASE_API_ERRORS;

/** Verification failures are the client's fault: 422, the file is not an acceptable release. */
const VERIFY_STATUS = 422;

export class ReleaseApiError extends Error {
  readonly [ANSWERED_AS_IS] = true as const;
  readonly code: ReleaseApiErrorCode | UpgradeErrorCode;
  readonly status: number;
  constructor(code: ReleaseApiErrorCode | UpgradeErrorCode, message?: string) {
    const known = code in RELEASE_API_ERRORS ? RELEASE_API_ERRORS[code as ReleaseApiErrorCode] : undefined;
    super(message ?? known?.message ?? UPGRADE_ERRORS[code as UpgradeErrorCode].summary);
    this.name = 'ReleaseApiError';
    this.code = code;
    this.status = known?.status ?? VERIFY_STATUS;
  }
}
