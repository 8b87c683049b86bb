import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { ApiError, errorBody, UnavailableError } from './errors';
import { newId } from './ids';
import type { Logger } from './logger';

export function requestId(req: Request, res: Response, next: NextFunction): void {
  const given = req.get('x-request-id');
  res.locals.requestId = given && /^[\w.-]{1,64}$/.test(given) ? given : newId('req');
  res.setHeader('x-request-id', res.locals.requestId as string);
  next();
}

/** Parse input at the edge; the first issue becomes a 400 that names the field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.length ? `${where}.${issue.path.join('.')}` : where;
  throw new ApiError('bad_request', `${field}: ${issue.message}`);
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const id = String(res.locals.requestId ?? '');
    if (err instanceof ApiError) {
      if (err instanceof UnavailableError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      res.status(err.status).json(errorBody(err.code, err.message, id, err.details));
      return;
    }
    // body-parser's own errors carry a `type`.
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      res.status(413).json(errorBody('payload_too_large', 'Request body is too large', id));
      return;
    }
    if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') {
      res.status(400).json(errorBody('bad_request', 'Request body is not valid JSON', id));
      return;
    }
    if ((err as { code?: string }).code === 'REDIS_UNAVAILABLE' || /Stream isn't writeable|Connection is closed/.test(String((err as Error).message))) {
      res.status(503).json(errorBody('unavailable', 'A backing store is unavailable; try again shortly', id));
      return;
    }
    logger.error({ err, path: req.path, requestId: id }, 'unhandled error');
    res.status(500).json(errorBody('internal', 'Something went wrong on our side', id));
  };
}

export function notFound(req: Request, res: Response): void {
  res.status(404).json(errorBody('not_found', `No route for ${req.method} ${req.path}`, String(res.locals.requestId ?? '')));
}
