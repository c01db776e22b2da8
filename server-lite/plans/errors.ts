// Error registry of node plans on the server (docs/errors-plans.md): every code `plan apply`,
// `plan status` and the `/v1/plans` API can answer with, with its HTTP status.

export const PLAN_ERRORS = Object.freeze({
  PLAN_INVALID: { status: 400, message: 'the plan does not match the plan schema (docs/plans.md)' },
  PLAN_OPTIONS_INVALID: { status: 400, message: 'a rollout option (--target, --concurrency, --max-failures, --window) is malformed' },
  PLAN_NOT_FOUND: { status: 404, message: 'no plan has that name' },
  NODE_NOT_FOUND: { status: 404, message: 'no node has that id' },
} as const);

export type PlanErrorCode = keyof typeof PLAN_ERRORS;

export class PlanError extends Error {
  readonly code: PlanErrorCode;
  readonly status: number;
  constructor(code: PlanErrorCode, message?: string) {
    super(message ?? PLAN_ERRORS[code].message);
    this.name = 'PlanError';
    this.code = code;
    this.status = PLAN_ERRORS[code].status;
  }
}
