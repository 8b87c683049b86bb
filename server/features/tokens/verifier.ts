import jwt from 'jsonwebtoken';
import { tokenClaimsSchema } from '../../../contract/tokens.js';
import type { Core } from '../../core';
import { ApiError } from '../../lib/errors';
import type { KeyMode } from '../../lib/ids';
import type { AppRecord } from '../apps/store';
import type { TokenClaims } from './signer';
import type { SigningKeyStore } from './signing-keys';

export interface TokenVerifier {
  /**
   * Checks a token for the app and mode of the secret key that asks, then spends its jti:
   * a second verification of the same token is `already_used`.
   */
  verifyOnce(app: AppRecord, mode: KeyMode, token: string): Promise<TokenClaims>;
}

function invalid(message: string): ApiError {
  return new ApiError('invalid_token', message);
}

export function createTokenVerifier(core: Core, deps: { keys: SigningKeyStore; issuer(appId: string): string }): TokenVerifier {
  async function check(app: AppRecord, mode: KeyMode, token: string): Promise<TokenClaims> {
    let decoded: jwt.Jwt | null;
    try {
      decoded = jwt.decode(token, { complete: true });
    } catch {
      // jws parses a `typ: JWT` payload as JSON and throws on garbage instead of returning null.
      decoded = null;
    }
    if (!decoded || typeof decoded.payload === 'string') throw invalid('The token is not a JWT');
    const { alg, kid } = decoded.header;
    if (alg !== 'ES256' || typeof kid !== 'string') throw invalid('The token is not an ES256 token with a kid');
    const key = await deps.keys.verificationKey(app.id, kid);
    // Unknown kid, another app's key, or a key past its publication window look the same.
    if (!key) throw invalid('The token was not signed by a current key of this app');
    let payload: unknown;
    try {
      payload = jwt.verify(token, key.publicKey, { algorithms: ['ES256'], issuer: deps.issuer(app.id), audience: app.id });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw new ApiError('token_expired', 'The token has expired');
      const why = err instanceof jwt.JsonWebTokenError ? `: ${err.message}` : '';
      throw invalid(`The token did not verify${why}`);
    }
    const parsed = tokenClaimsSchema.safeParse(payload);
    if (!parsed.success) throw invalid('The token is missing claims this service always sets');
    const claims = parsed.data as TokenClaims;
    if (claims.mode !== mode) {
      throw invalid(`This is a ${claims.mode}-mode token; verify it with a ${claims.mode}-mode secret key`);
    }
    return claims;
  }

  return {
    async verifyOnce(app, mode, token) {
      const claims = await check(app, mode, token);
      // The mark lives exactly as long as the token could still verify, so Redis never fills up.
      const ttlMs = Math.max(1_000, claims.exp * 1000 - Date.now());
      const set = await core.redis.client.set(core.key('tokens', 'used', app.id, claims.jti), '1', 'PX', ttlMs, 'NX');
      if (set !== 'OK') throw new ApiError('already_used', 'This token was already verified once; sign the user in again');
      return claims;
    },
  };
}
