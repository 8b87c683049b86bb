import jwt from 'jsonwebtoken';
import type { TokenClaims } from '../../../contract/tokens.js';
import type { Core } from '../../core';
import { ApiError } from '../../lib/errors';
import type { KeyMode } from '../../lib/ids';
import type { AppRecord, AppsStore } from '../apps/store';
import { ROTATION_MARGIN_SECONDS, type SigningKeyStore } from './signing-keys';

export interface TokenClaimsInput {
  sub: string;
  openid: string;
  unionid?: string;
  name?: string;
  picture?: string;
  /** The login session id: single use, checked by /v1/tokens/verify. */
  jti: string;
}

export type { TokenClaims };

export interface TokenSigner {
  sign(app: AppRecord, mode: KeyMode, claims: TokenClaimsInput): Promise<string>;
  rotateSigningKey(appId: string): Promise<{ kid: string }>;
  /** `${PUBLIC_URL}/apps/${appId}`, read at call time (PUBLIC_URL is final only after listen). */
  issuer(appId: string): string;
}

/** The phone feature's claims (features/phone), for apps that ask for the number. */
export interface PhoneClaimsPort {
  claims(app: AppRecord, mode: KeyMode, openid: string): Promise<{ phone_number: string; phone_number_verified: boolean } | null>;
}

export function createTokenSigner(core: Core, deps: { apps: Pick<AppsStore, 'getApp' | 'invalidate'>; keys: SigningKeyStore; phones?: PhoneClaimsPort }): TokenSigner {
  const issuer = (appId: string) => `${core.config.publicUrl}/apps/${appId}`;

  return {
    issuer,

    async sign(app, mode, input) {
      const [key, phone] = await Promise.all([deps.keys.activeKey(app), deps.phones?.claims(app, mode, input.openid) ?? null]);
      const iat = Math.floor(Date.now() / 1000);
      const claims: TokenClaims = {
        iss: issuer(app.id),
        aud: app.id,
        sub: input.sub,
        openid: input.openid,
        ...(input.unionid ? { unionid: input.unionid } : {}),
        ...(input.name ? { name: input.name } : {}),
        ...(input.picture ? { picture: input.picture } : {}),
        ...(phone ?? {}),
        amr: ['wechat_mp_scan'],
        mode,
        iat,
        exp: iat + app.tokenTtlSeconds,
        jti: input.jti,
      };
      // Claims are set explicitly (jsonwebtoken keeps a given iat) so what we sign is exactly `claims`.
      return jwt.sign(claims, key.privateKey, { algorithm: 'ES256', keyid: key.kid });
    },

    async rotateSigningKey(appId) {
      // The publication window depends on the token lifetime: read it fresh, not from the cache.
      deps.apps.invalidate(appId);
      const app = await deps.apps.getApp(appId);
      if (!app) throw new ApiError('not_found', 'No such app');
      // A token signed just before rotation (or from another instance's few-second key cache)
      // lives tokenTtlSeconds; the margin covers that cache and clock skew.
      return deps.keys.rotate(app, app.tokenTtlSeconds + ROTATION_MARGIN_SECONDS);
    },
  };
}
