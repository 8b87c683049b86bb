import express from 'express';
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/client';
import { ApiError, errorBody, UnavailableError } from './errors';
import { newId } from './ids';
import type { Logger } from './logger';

export function requestId(req: Request, res: Response, next: NextFunction): void {
  const given = req.get('x-request-id');
  res.locals.requestId = given && /^[\w.-]{1,64}$/.test(given) ? given : newId('req');
  res.setHeader('x-request-id', res.locals.requestId as string);
  next();
}

/**
 * When the public URL is https, browsers are told to use nothing else for this host for a
 * year (HSTS), so a first plain-http request can't be intercepted and downgraded. Over plain
 * http (local development) the header means nothing and is left out.
 */
export function strictTransportSecurity(publicUrl: () => string) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (publicUrl().startsWith('https://')) res.setHeader('strict-transport-security', 'max-age=31536000; includeSubDomains');
    next();
  };
}

/** What the JSON reviver throws; body-parser passes it on as a parse failure, and the handler says why. */
export class NulInJsonError extends SyntaxError {}

function refuseNul(key: string, value: unknown): unknown {
  if (key.includes('\u0000') || (typeof value === 'string' && value.includes('\u0000'))) throw new NulInJsonError('NUL character in JSON');
  return value;
}

/**
 * The JSON body parser every route uses. A NUL (U+0000) is valid JSON, but PostgreSQL text
 * can't hold one and no field of ours needs one, so it is refused here, before any handler.
 */
export function jsonBody(limit: string) {
  return express.json({ limit, reviver: refuseNul });
}

/**
 * Refuses a URL with a NUL byte anywhere (%00) or a path whose percent-encoding doesn't decode
 * (`%zz`, a cut-off or overlong UTF-8 sequence), for every route at once.
 */
export function rejectMalformedUrl(req: Request, _res: Response, next: NextFunction): void {
  const url = req.url;
  if (url.includes('\u0000') || /%00/i.test(url)) return next(new ApiError('bad_request', 'The URL contains a NUL character'));
  const q = url.indexOf('?');
  try {
    decodeURIComponent(q < 0 ? url : url.slice(0, q));
  } catch {
    return next(new ApiError('bad_request', 'The URL\'s percent-encoding is invalid'));
  }
  next();
}

/**
 * PostgreSQL's answers to a value it can't take (SQLSTATE class 22): out-of-range numbers and
 * dates, bad text encodings, malformed literals. Routes validate first; this is the last line,
 * so a bound a schema missed is still the client's 400 and not our 500.
 */
const PG_INVALID_INPUT = new Set(['22001', '22003', '22007', '22008', '22021', '22P02', '22P05', '22023', '2201X', '2201W', '22009', '22015']);

function postgresCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** zod's own messages name types ("expected string, received undefined"); people need words. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized)/;

function plainIssue(issue: z.core.$ZodIssue): string {
  // A schema's own message ("must be an https:// URL") is already plain.
  if (issue.code === 'custom' || !ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return /received undefined/.test(issue.message) ? 'is required' : `must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `needs at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `can have at most ${issue.maximum} items`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_format':
      if (issue.format === 'url') return 'must be a full URL, like https://example.com';
      if (issue.format === 'email') return 'must be an email address';
      return 'is not in the expected format';
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys':
      return `has fields we don't know: ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

/**
 * Parse input at the edge; the first issue becomes a 400 that names the field. `details`
 * carries the field's path and the reason on its own, so a form can show it beside the field.
 */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const reason = plainIssue(issue);
  throw new ApiError('bad_request', `${path ? `${where}.${path}` : where}: ${reason}`, { field: path || where, reason });
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // Already answered (requestDeadline's 503): the route's late answer or failure has no one to go to.
    if (res.headersSent) return;
    const id = String(res.locals.requestId ?? '');
    if (err instanceof ApiError) {
      if (err instanceof UnavailableError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
      res.status(err.status).json(errorBody(err.code, err.message, id, err.details));
      return;
    }
    if (err instanceof NulInJsonError) {
      res.status(400).json(errorBody('bad_request', 'body: text must not contain NUL characters (U+0000)', id));
      return;
    }
    // Express's router could not decode a path parameter.
    if (err instanceof URIError) {
      res.status(400).json(errorBody('bad_request', 'The URL\'s percent-encoding is invalid', id));
      return;
    }
    const pg = postgresCode(err);
    if (pg && PG_INVALID_INPUT.has(pg)) {
      res.status(400).json(errorBody('bad_request', 'A value in this request is malformed or out of range', id));
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
    if (isDatabaseUnavailable(err)) {
      res.setHeader('Retry-After', '2');
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
