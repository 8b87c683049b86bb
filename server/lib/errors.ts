import type { ErrorBody } from '../../contract/common.js';

/**
 * Every error a client can see has a stable code; the status comes from this table so a
 * route can never pick an inconsistent one. Shape on the wire: {error:{code, message, requestId}}.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_key: 401,
  unauthorized: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  live_mode_forbidden: 403,
  csrf_failed: 403,
  email_unverified: 403,
  two_factor_required: 403,
  limit_exceeded: 403,
  not_found: 404,
  session_not_found: 404,
  session_expired: 410,
  already_scanned: 409,
  already_used: 409,
  invalid_token: 401,
  token_expired: 401,
  conflict: 409,
  wrong_user: 403,
  invalid_state: 409,
  payload_too_large: 413,
  rate_limited: 429,
  quota_exceeded: 403,
  phone_required: 400,
  wechat_error: 502,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

/** The contract's error body (contract/common.ts), the only shape an error answer has. */
export function errorBody(code: string, message: string, requestId: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, requestId, ...(details ? { details } : {}) } };
}

/**
 * Something we depend on (Redis, Postgres, the worker processes) is down or busy: 503
 * `unavailable` with a Retry-After, so clients know the same request may work shortly.
 */
export class UnavailableError extends ApiError {
  constructor(
    message = 'A backing service is unavailable; try again shortly',
    readonly retryAfterSeconds = 2,
    /** What failed underneath (an ioredis or driver error), for the log. */
    options?: { cause?: unknown },
  ) {
    super('unavailable', message);
    if (options) this.cause = options.cause;
  }
}
