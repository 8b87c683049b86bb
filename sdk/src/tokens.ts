import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The claims of a login token (see the service's DESIGN: ES256, per-app keys, 300 s by default). */
export interface TokenClaims {
  iss: string;
  aud: string;
  sub: string;
  openid: string;
  unionid?: string;
  name?: string;
  picture?: string;
  amr: string[];
  mode: 'test' | 'live';
  iat: number;
  exp: number;
  jti: string;
}

export type TokenErrorReason = 'malformed' | 'unsupported_alg' | 'unknown_kid' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer' | 'wrong_audience' | 'wrong_mode' | 'jwks_unavailable';

export class TokenVerificationError extends Error {
  constructor(readonly reason: TokenErrorReason, message: string) {
    super(message);
    this.name = 'TokenVerificationError';
  }
}

export interface VerifyTokenOptions {
  /** Your app id (`app_…`): the token's `aud`. */
  appId: string;
  /** `https://<service>/apps/<appId>`; the JWKS is fetched from `{issuer}/.well-known/jwks.json`. */
  issuer?: string;
  /** Give this instead of `issuer` to fetch keys elsewhere; the issuer is then derived from it. */
  jwksUrl?: string;
  /**
   * Which mode's tokens to accept. Default `'live'`: test-mode tokens come from the sandbox,
   * where the caller picks the WeChat identity, so production must never accept them. Use
   * `'test'` in a development or staging setup on test keys.
   */
  mode?: 'test' | 'live';
  clockToleranceSeconds?: number;
  now?: Date;
  fetch?: typeof fetch;
}

interface CachedJwks {
  keys: Map<string, KeyObject>;
  fetchedAt: number;
  inflight?: Promise<void>;
}

/** Keys are cached per JWKS URL; an unknown `kid` (a rotation) refetches, at most every MIN_REFETCH_MS. */
const cache = new Map<string, CachedJwks>();
const TTL_MS = 10 * 60_000;
const MIN_REFETCH_MS = 1_000;

/** Forget cached keys (tests, or after you know keys changed). */
export function clearJwksCache(): void {
  cache.clear();
}

async function loadJwks(url: string, entry: CachedJwks, doFetch: typeof fetch): Promise<void> {
  entry.inflight ??= (async () => {
    try {
      const res = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
      if (!res.ok) throw new TokenVerificationError('jwks_unavailable', `JWKS fetch answered ${res.status}: ${url}`);
      const body = (await res.json()) as { keys?: Array<JsonWebKey & { kid?: string }> };
      const keys = new Map<string, KeyObject>();
      for (const jwk of body.keys ?? []) {
        if (jwk.kid && jwk.kty === 'EC' && jwk.crv === 'P-256') keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
      }
      entry.keys = keys;
      entry.fetchedAt = Date.now();
    } catch (err) {
      if (err instanceof TokenVerificationError) throw err;
      throw new TokenVerificationError('jwks_unavailable', `Could not fetch the JWKS at ${url}: ${(err as Error).message}`);
    } finally {
      entry.inflight = undefined;
    }
  })();
  return entry.inflight;
}

async function keyFor(url: string, kid: string, doFetch: typeof fetch): Promise<KeyObject> {
  let entry = cache.get(url);
  if (!entry) {
    entry = { keys: new Map(), fetchedAt: 0 };
    cache.set(url, entry);
  }
  const stale = Date.now() - entry.fetchedAt > TTL_MS;
  if (stale || (!entry.keys.has(kid) && Date.now() - entry.fetchedAt > MIN_REFETCH_MS)) await loadJwks(url, entry, doFetch);
  const key = entry.keys.get(kid);
  if (!key) throw new TokenVerificationError('unknown_kid', `No key ${kid} in ${url} (a token from another app or deployment?)`);
  return key;
}

function decodePart(part: string | undefined): Record<string, unknown> {
  if (!part) throw new TokenVerificationError('malformed', 'Not a JWT');
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new TokenVerificationError('malformed', 'Not a JWT');
  }
}

/**
 * Verifies a login token locally with the app's published keys (node:crypto + fetch only).
 * This checks signature, issuer, audience, expiry and mode; it does not mark the token used:
 * to make each token single-use, remember `jti` or call the service's POST /v1/tokens/verify.
 */
export async function verifyToken(token: string, opts: VerifyTokenOptions): Promise<TokenClaims> {
  const issuer = (opts.issuer ?? opts.jwksUrl?.replace(/\/\.well-known\/jwks\.json$/, ''))?.replace(/\/+$/, '');
  if (!issuer) throw new TypeError('verifyToken: pass `issuer` (https://<service>/apps/<appId>) or `jwksUrl`');
  const jwksUrl = opts.jwksUrl ?? `${issuer}/.well-known/jwks.json`;
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenVerificationError('malformed', 'Not a JWT');
  const head = decodePart(parts[0]);
  const claims = decodePart(parts[1]) as unknown as TokenClaims;
  if (head.alg !== 'ES256') throw new TokenVerificationError('unsupported_alg', `Tokens are ES256; this one says ${String(head.alg)}`);
  if (typeof head.kid !== 'string') throw new TokenVerificationError('malformed', 'The token has no kid');
  const key = await keyFor(jwksUrl, head.kid, opts.fetch ?? fetch);
  const ok = verifySignature('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2]!, 'base64url'));
  if (!ok) throw new TokenVerificationError('bad_signature', 'The token signature does not verify');
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const skew = opts.clockToleranceSeconds ?? 30;
  if (typeof claims.exp !== 'number' || now > claims.exp + skew) throw new TokenVerificationError('expired', 'The token has expired');
  if (typeof claims.iat === 'number' && claims.iat > now + skew) throw new TokenVerificationError('not_yet_valid', 'The token was issued in the future (check clocks)');
  if (claims.iss !== issuer) throw new TokenVerificationError('wrong_issuer', `The token's issuer is ${String(claims.iss)}, expected ${issuer}`);
  if (claims.aud !== opts.appId) throw new TokenVerificationError('wrong_audience', `The token is for ${String(claims.aud)}, not ${opts.appId}`);
  if (claims.mode !== (opts.mode ?? 'live')) throw new TokenVerificationError('wrong_mode', `The token is a ${String(claims.mode)}-mode token`);
  return claims;
}
