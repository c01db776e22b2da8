// Error registry of node plans on the server (docs/errors-plans.md): every code `plan apply`,
// `plan status` and the `/v1/plans` API can answer with, with its HTTP status.
import { ANSWERED_AS_IS } from '../errors.ts';

export const PLAN_ERRORS = Object.freeze({
  PLAN_INVALID: { status: 400, message: 'the plan does not match the plan schema (docs/plans.md)' },
  PLAN_OPTIONS_INVALID: { status: 400, message: 'a rollout option (--target, --concurrency, --max-failures, --window) is malformed' },
  PLAN_NOT_FOUND: { status: 404, message: 'no plan has that name' },
  NODE_NOT_FOUND: { status: 404, message: 'no node has that id' },
  ARTIFACT_INVALID: { status: 400, message: 'an artifact upload names a malformed version, binary or SHA-256' },
  ARTIFACT_CHECKSUM_MISMATCH: { status: 400, message: 'the uploaded bytes do not have the SHA-256 the upload named' },
  ARTIFACT_EXISTS: { status: 409, message: 'that version of that binary was imported before with other content' },
  ARTIFACT_NOT_FOUND: { status: 404, message: 'no imported artifact has that name' },
} as const);

export type PlanErrorCode = keyof typeof PLAN_ERRORS;

export class PlanError extends Error {
  readonly [ANSWERED_AS_IS] = true as const;
  readonly code: PlanErrorCode;
  readonly status: number;
  constructor(code: PlanErrorCode, message?: string) {
    super(message ?? PLAN_ERRORS[code].message);
    this.name = 'PlanError';
    this.code = code;
    this.status = PLAN_ERRORS[code].status;
  }
}
