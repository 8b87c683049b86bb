import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, literalHostAllowed, type UrlPolicy } from './url-safety';

export interface PostResult {
  /** Undefined when no response arrived (timeout, refused, DNS, forbidden address). */
  statusCode?: number;
  durationMs: number;
  /** The first bytes of the response body, as text. */
  body: string;
  error?: string;
  /** From a Retry-After header, in milliseconds from now. */
  retryAfterMs?: number;
}

/** Most receivers answer with a few bytes; anything beyond this is not worth keeping. */
export const RESPONSE_BYTES = 4096;

export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface PostOptions {
  /** Deadline over the whole exchange. */
  timeoutMs: number;
  /**
   * Deadline for the name lookup, TCP connect and TLS handshake: a host that is down or
   * blackholed gives up the worker in seconds, while a receiver that is connected but slow
   * still has `timeoutMs` to answer.
   */
  connectTimeoutMs?: number;
  policy: UrlPolicy;
}

/**
 * One POST to a tenant's URL: no redirects followed (http.request never follows them), a short
 * deadline to connect and a hard one over the whole exchange, at most RESPONSE_BYTES of the
 * body read, and the address check applied to the socket's actual destination.
 */
export function postWebhook(rawUrl: string, headers: Record<string, string>, body: string, opts: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: elapsed() });
    };
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      resolve({ durationMs: 0, body: '', error: 'invalid url' });
      return;
    }
    if (literalHostAllowed(url, opts.policy) === false) {
      resolve({ durationMs: 0, body: '', error: 'forbidden address' });
      return;
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = Buffer.from(body);
    const req = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length), 'user-agent': 'wechat-scan-login-webhooks/1' },
      lookup: guardedLookup(opts.policy) as never,
      agent: false,
    });
    const timer = setTimeout(() => {
      finish({ body: '', error: `timed out after ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    const connectMs = opts.connectTimeoutMs;
    if (connectMs !== undefined && connectMs < opts.timeoutMs) {
      req.once('socket', (socket) => {
        const connectTimer = setTimeout(() => {
          finish({ body: '', error: `could not connect within ${connectMs} ms` });
          req.destroy();
        }, connectMs);
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
    }
    req.on('error', (err: NodeJS.ErrnoException) => {
      finish({ body: '', error: err.code === 'EFORBIDDENADDR' ? 'forbidden address' : (err.code ?? err.message) });
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const text = Buffer.concat(chunks).subarray(0, RESPONSE_BYTES).toString('utf8');
        finish({ statusCode: res.statusCode, body: text, retryAfterMs: parseRetryAfter(res.headers['retry-after']) });
        res.destroy();
      };
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= RESPONSE_BYTES) done();
      });
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    req.end(payload);
  });
}
