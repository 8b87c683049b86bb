import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths that may carry secrets; pino replaces them before anything is written. */
const REDACT = [
  'secret', '*.secret', 'appSecret', '*.appSecret', 'token', '*.token', 'password', '*.password',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'headers.authorization', 'headers.cookie', 'access_token', '*.access_token', 'session_key', '*.session_key',
  'code', '*.code_verifier', 'privateKey', '*.privateKey', 'ticket', '*.ticket',
];

/**
 * drizzle wraps every failed query in an error whose message (and stack) ends with
 * `params: <every bound value>` and which carries them again in `params`: password hashes,
 * CSRF tokens, encrypted secrets. A database outage would print them all; the query text
 * stays, the values don't.
 */
function serializeErr(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  const leaks: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++, e = e.cause) {
    const params = (e as { params?: unknown }).params;
    if (Array.isArray(params) && params.length) leaks.push(`params: ${String(params)}`);
  }
  if (!leaks.length || !out || typeof out !== 'object') return out;
  const o = out as Record<string, unknown>;
  const scrub = (v: unknown) => (typeof v === 'string' ? leaks.reduce((s, leak) => s.split(leak).join('params: [redacted]'), v) : v);
  if ('params' in o) o.params = '[redacted]';
  o.message = scrub(o.message);
  o.stack = scrub(o.stack);
  return o;
}

export function createLogger(level: string, name = 'wechat-scan-login', destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { err: serializeErr } };
  return destination ? pino(options, destination) : pino(options);
}
