import type { LoginCancelled, LoginSucceeded, UserCreated, WebhookEvent } from '../../contract/webhooks.js';

/** What every webhook body looks like. `data` depends on `type` (see README). */
export type { LoginCancelled, LoginSucceeded, UserCreated, WebhookEvent };

export type WebhookErrorReason = 'missing_headers' | 'bad_timestamp' | 'timestamp_out_of_range' | 'bad_signature' | 'bad_secret' | 'bad_body';

/** Every refusal says why, so a log line tells you what to fix (wrong secret, clock skew, re-serialized body). */
export class WebhookVerificationError extends Error {
  constructor(readonly reason: WebhookErrorReason, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** Fetch `Headers`, Node's `req.headers`, or a plain object. */
export type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  return Array.isArray(v) ? v[0] : v;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function fromBase64(b64: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64.test(b64)) return null;
  try {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function keyOf(secret: string): Promise<CryptoKey> {
  const raw = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (!raw || raw.length < 16) {
    throw new WebhookVerificationError('bad_secret', 'The webhook secret is not a `whsec_…` value from the console or API');
  }
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

export interface VerifyWebhookOptions {
  /** How far the `webhook-timestamp` may be from now. Default 300 s (the Standard Webhooks default). */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * Checks a Standard Webhooks signature and returns the parsed event. Pass the raw body exactly
 * as received (not re-serialized JSON). `secret` may be a list: during your own rotation,
 * accept both. Rejects with WebhookVerificationError. WebCrypto only (no dependencies), so it
 * runs in Node ≥ 20, Deno, Bun and edge workers; the comparison is WebCrypto's own `verify`.
 */
export async function verifyWebhook(body: string | Uint8Array, headers: HeadersLike, secret: string | string[], opts: VerifyWebhookOptions = {}): Promise<WebhookEvent> {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) {
    throw new WebhookVerificationError('missing_headers', 'Missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  if (!/^\d{1,12}$/.test(ts)) throw new WebhookVerificationError('bad_timestamp', 'webhook-timestamp is not a Unix time in seconds');
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  if (Math.abs(now - Number(ts)) > tolerance) {
    throw new WebhookVerificationError('timestamp_out_of_range', `webhook-timestamp is more than ${tolerance} s from this server's clock (replayed, or a clock is wrong)`);
  }
  const payload = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const prefix = new TextEncoder().encode(`${id}.${ts}.`);
  const content = new Uint8Array(prefix.length + payload.length);
  content.set(prefix);
  content.set(payload, prefix.length);
  const given = sigs.split(' ').map((s) => s.split(',')).filter(([v, s]) => v === 'v1' && s).map(([, s]) => fromBase64(s!)).filter((s) => s !== null);
  const keys = await Promise.all((Array.isArray(secret) ? secret : [secret]).map(keyOf));
  const checks = keys.flatMap((key) => given.map((sig) => crypto.subtle.verify('HMAC', key, sig, content)));
  if (!(await Promise.all(checks)).some(Boolean)) {
    throw new WebhookVerificationError('bad_signature', 'No signature matches this secret (wrong secret, or the body was changed or re-serialized)');
  }
  try {
    return JSON.parse(new TextDecoder().decode(payload)) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError('bad_body', 'The body is not JSON');
  }
}
