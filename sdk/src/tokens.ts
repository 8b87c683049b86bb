import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Mode } from '../../contract/common.js';
import { tokenClaimsSchema, type TokenClaims } from '../../contract/tokens.js';

export type { TokenClaims };

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
   * `'test'` in a development or staging setup on test keys, or `modeOfKey(pk)` to follow the
   * key the page uses.
   */
  mode?: Mode;
  clockToleranceSeconds?: number;
  now?: Date;
  fetch?: typeof fetch;
}

/**
 * One jose key set per JWKS URL: keys are cached 10 minutes, and a token whose `kid` the cache
 * doesn't know (a rotation) refetches, at most once a second.
 */
const keySets = new Map<string, JWTVerifyGetKey>();

/** Forget cached keys (tests, or after you know keys changed). */
export function clearJwksCache(): void {
  keySets.clear();
}

function keySet(url: string, doFetch: typeof fetch | undefined): JWTVerifyGetKey {
  const options = { cooldownDuration: 1_000, cacheMaxAge: 10 * 60_000, ...(doFetch ? { [customFetch]: doFetch } : {}) };
  // A custom fetch is the caller's own transport: don't share its keys with other callers.
  if (doFetch) return createRemoteJWKSet(new URL(url), options);
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), options);
    keySets.set(url, set);
  }
  return set;
}

/** jose's errors, as the reasons this SDK has always given (a log line says what to fix). */
function explain(err: unknown, jwksUrl: string): TokenVerificationError {
  if (err instanceof TokenVerificationError) return err;
  if (err instanceof errors.JWTExpired) return new TokenVerificationError('expired', 'The token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new TokenVerificationError('wrong_issuer', `The token's issuer is ${String(err.payload.iss)}, not the one expected`);
    if (err.claim === 'aud') return new TokenVerificationError('wrong_audience', `The token is for ${String(err.payload.aud)}, not this app`);
    if (err.claim === 'iat' || err.claim === 'nbf') return new TokenVerificationError('not_yet_valid', 'The token was issued in the future (check clocks)');
    return new TokenVerificationError('malformed', `The token's ${err.claim} claim is wrong: ${err.message}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenVerificationError('unsupported_alg', 'Tokens are ES256; this one is signed with another algorithm');
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenVerificationError('bad_signature', 'The token signature does not verify');
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenVerificationError('unknown_kid', `No key for this token in ${jwksUrl} (a token from another app or deployment?)`);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return new TokenVerificationError('malformed', 'Not a JWT');
  return new TokenVerificationError('jwks_unavailable', `Could not fetch the JWKS at ${jwksUrl}: ${(err as Error).message}`);
}

/**
 * Verifies a login token locally with the app's published keys (jose, so it runs in Node, Deno,
 * Bun and edge workers). This checks signature, issuer, audience, expiry and mode; it does not
 * mark the token used: to make each token single-use, remember `jti` or call the service's
 * POST /v1/tokens/verify.
 */
export async function verifyToken(token: string, opts: VerifyTokenOptions): Promise<TokenClaims> {
  const issuer = (opts.issuer ?? opts.jwksUrl?.replace(/\/\.well-known\/jwks\.json$/, ''))?.replace(/\/+$/, '');
  if (!issuer) throw new TypeError('verifyToken: pass `issuer` (https://<service>/apps/<appId>) or `jwksUrl`');
  const jwksUrl = opts.jwksUrl ?? `${issuer}/.well-known/jwks.json`;
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, keySet(jwksUrl, opts.fetch), {
      issuer,
      audience: opts.appId,
      algorithms: ['ES256'],
      clockTolerance: opts.clockToleranceSeconds ?? 30,
      ...(opts.now ? { currentDate: opts.now } : {}),
    }));
  } catch (err) {
    throw explain(err, jwksUrl);
  }
  const claims = tokenClaimsSchema.safeParse(payload);
  if (!claims.success) throw new TokenVerificationError('malformed', 'The token lacks claims this service always sets');
  const mode = opts.mode ?? 'live';
  if (claims.data.mode !== mode) throw new TokenVerificationError('wrong_mode', `The token is a ${claims.data.mode}-mode token; this backend accepts ${mode}-mode tokens`);
  return claims.data;
}

/** The mode a key belongs to (`pk_test_…` → `'test'`): verify with the mode of the key your page uses. */
export function modeOfKey(key: string): Mode {
  const m = /^(?:pk|sk)_(test|live)_/.exec(key);
  if (!m) throw new TypeError('modeOfKey: expected a pk_test_…, pk_live_…, sk_test_… or sk_live_… key');
  return m[1] as Mode;
}
