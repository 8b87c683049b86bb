import { ApiError, type ErrorCode } from '../../lib/errors';

/** What the phone shows; the confirm page has its own translations keyed by the error code. */
export const SAY = {
  expired: 'This code has expired; refresh the code on your computer',
  unknown: 'This code is unknown or has been used; refresh the code on your computer',
  finished: 'This login session is unknown or finished',
} as const;

/**
 * Every store outcome the phone can be refused with, per operation: the one place that turns
 * the scripts' status words (lua.ts) into the API's error codes.
 */
const REFUSALS = {
  scan: {
    expired: ['session_expired', SAY.expired],
    taken: ['already_scanned', 'Someone else already scanned this code'],
    gone: ['session_expired', 'This login was cancelled; refresh the code on your computer'],
    missing: ['session_not_found', SAY.unknown],
  },
  confirm: {
    expired: ['session_expired', SAY.expired],
    wrong_ticket: ['wrong_user', 'Only the WeChat user who scanned this code can answer it'],
    not_scanned: ['invalid_state', 'Scan the code before confirming'],
    busy: ['conflict', 'This login is being confirmed already'],
    gone: ['invalid_state', 'This login was already cancelled'],
    missing: ['session_not_found', SAY.unknown],
  },
  cancel: {
    expired: ['session_expired', SAY.expired],
    wrong_ticket: ['wrong_user', 'Only the WeChat user who scanned this code can answer it'],
    not_scanned: ['invalid_state', 'Scan the code before confirming'],
    done: ['invalid_state', 'This login was already confirmed'],
    missing: ['session_not_found', SAY.unknown],
  },
} as const satisfies Record<string, Record<string, readonly [ErrorCode, string]>>;

export type Operation = keyof typeof REFUSALS;
export type Refused<Op extends Operation> = keyof (typeof REFUSALS)[Op];

export function refusal<Op extends Operation>(op: Op, status: Refused<Op>): ApiError {
  const [code, message] = REFUSALS[op][status] as readonly [ErrorCode, string];
  return new ApiError(code, message);
}
