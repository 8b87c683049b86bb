import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import { tokensRouter } from './routes';
import { createTokenSigner, type PhoneClaimsPort, type TokenSigner } from './signer';
import { createSigningKeyStore, type SigningKeyStore } from './signing-keys';
import { createTokenVerifier, type TokenVerifier } from './verifier';

export type { PhoneClaimsPort, TokenSigner, TokenClaims, TokenClaimsInput } from './signer';
export type { ActiveKey, PublicJwk, SigningKeyStore } from './signing-keys';
export type { TokenVerifier } from './verifier';

/** ES256 tokens per app: signing for the login flow, JWKS, and one-time verification. */
export function createTokensFeature(core: Core, deps: { apps: AppsStore; phones?: PhoneClaimsPort }): { feature: Feature; signer: TokenSigner; keys: SigningKeyStore; verifier: TokenVerifier } {
  const keys = createSigningKeyStore(core);
  const signer = createTokenSigner(core, { apps: deps.apps, keys, phones: deps.phones });
  const verifier = createTokenVerifier(core, { keys, issuer: signer.issuer });
  return {
    feature: { name: 'tokens', router: tokensRouter({ apps: deps.apps, keys, verifier }) },
    signer,
    keys,
    verifier,
  };
}
