import { createHmac, timingSafeEqual } from 'node:crypto';

/** What every webhook body looks like. `data` depends on `type` (see README). */
export type WebhookEvent =
  | { type: 'login.succeeded'; timestamp: string; data: LoginSucceeded }
  | { type: 'login.cancelled'; timestamp: string; data: LoginCancelled }
  | { type: 'user.created'; timestamp: string; data: UserCreated }
  | { type: 'webhook.test'; timestamp: string; data: { endpointId: string; message: string } };

export interface LoginSucceeded {
  userId: string;
  openid: string;
  unionid?: string;
  nickname?: string;
  avatarUrl?: string;
  origin: string | null;
  browser: string | null;
  os: string | null;
  ip: string | null;
  sessionId: string;
  time: string;
}
export interface LoginCancelled {
  sessionId: string;
  origin: string | null;
  time: string;
}
export interface UserCreated {
  userId: string;
  openid: string;
  unionid?: string;
  time: string;
}

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

function keyOf(secret: string): Buffer {
  const raw = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const key = Buffer.from(raw, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || key.length < 16) {
    throw new WebhookVerificationError('bad_secret', 'The webhook secret is not a `whsec_…` value from the console or API');
  }
  return key;
}

export interface VerifyWebhookOptions {
  /** How far the `webhook-timestamp` may be from now. Default 300 s (the Standard Webhooks default). */
  toleranceSeconds?: number;
  now?: Date;
}

/**
 * Checks a Standard Webhooks signature and returns the parsed event. Pass the raw body exactly
 * as received (not re-serialized JSON). `secret` may be a list: during your own rotation,
 * accept both. Throws WebhookVerificationError.
 */
export function verifyWebhook(body: string | Uint8Array, headers: HeadersLike, secret: string | string[], opts: VerifyWebhookOptions = {}): WebhookEvent {
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
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const content = Buffer.concat([Buffer.from(`${id}.${ts}.`), payload]);
  const given = sigs.split(' ').map((s) => s.split(',')).filter(([v, s]) => v === 'v1' && s).map(([, s]) => Buffer.from(s!, 'base64'));
  const secrets = Array.isArray(secret) ? secret : [secret];
  const ok = secrets.some((sec) => {
    const expected = createHmac('sha256', keyOf(sec)).update(content).digest();
    return given.some((g) => g.length === expected.length && timingSafeEqual(g, expected));
  });
  if (!ok) throw new WebhookVerificationError('bad_signature', 'No signature matches this secret (wrong secret, or the body was changed or re-serialized)');
  try {
    return JSON.parse(payload.toString('utf8')) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError('bad_body', 'The body is not JSON');
  }
}
