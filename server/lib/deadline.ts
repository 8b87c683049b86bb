import type { NextFunction, Request, Response } from 'express';
import { errorBody } from './errors';

/** A request cut short by its deadline is usually a store that hangs: worth trying again soon. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Answers 503 `unavailable` with a Retry-After to any request still unanswered after `ms`, so a
 * store that hangs (connections open, nothing answers) can't hold a client for ever. Requests
 * whose path matches `spared` wait on purpose (the long-poll, the console's event stream) and
 * bound themselves. The route's own answer, if it ever comes, is dropped by errorHandler.
 */
export function requestDeadline(ms: number, spared: RegExp[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (spared.some((p) => p.test(req.path))) return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(503).json(errorBody('unavailable', 'This request took too long; a backing store may be unavailable, try again shortly', String(res.locals.requestId ?? '')));
    }, ms);
    const clear = () => clearTimeout(timer);
    res.once('finish', clear);
    res.once('close', clear);
    next();
  };
}
