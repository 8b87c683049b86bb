import { z } from 'zod';
import { sha256 } from '../../lib/crypto';
import { ApiError } from '../../lib/errors';
import { newId, randomBase64url, type KeyMode } from '../../lib/ids';
import type { ClientScope, OidcClientStore, OidcClientView } from './store';

export const clientInput = z.object({
  name: z.string().trim().min(1).max(100),
  redirect_uris: z.array(z.string().min(1).max(2048)).min(1).max(10),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).default('client_secret_basic'),
});
export type ClientInput = z.input<typeof clientInput>;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A redirect URI a client may register: absolute, no fragment, no credentials; https, or in
 * test mode also http on loopback (a developer's machine). Returned exactly as given, since
 * the provider compares byte for byte.
 */
export function redirectUriProblem(uri: string, mode: KeyMode): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${uri} is not an absolute URL`;
  }
  if (url.hash || uri.includes('#')) return `${uri} has a fragment, which redirect URIs may not have`;
  if (url.username || url.password) return `${uri} carries credentials`;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) {
    return mode === 'test' ? null : `${uri}: live-mode clients need https redirect URIs (http://localhost is for test mode)`;
  }
  return `${uri}: redirect URIs must use https${mode === 'test' ? ' (or http on localhost/127.0.0.1 in test mode)' : ''}`;
}

export interface CreatedClient extends OidcClientView {
  /** Only for confidential clients, only in this answer. */
  client_secret?: string;
}

export function createOidcClientService(store: OidcClientStore) {
  return {
    store,
    async create(scope: ClientScope, input: z.output<typeof clientInput>): Promise<CreatedClient> {
      for (const uri of input.redirect_uris) {
        const problem = redirectUriProblem(uri, scope.mode);
        if (problem) throw new ApiError('bad_request', `redirect_uris: ${problem}`);
      }
      const confidential = input.token_endpoint_auth_method !== 'none';
      const secret = confidential ? `ocs_${scope.mode}_${randomBase64url(32)}` : null;
      const view = await store.create(scope, {
        id: newId('cli'),
        name: input.name,
        redirectUris: [...new Set(input.redirect_uris)],
        tokenEndpointAuthMethod: input.token_endpoint_auth_method,
        secretHash: secret ? sha256(secret) : null,
        secretPrefix: secret ? `${secret.slice(0, 13)}…${secret.slice(-4)}` : null,
      });
      return secret ? { ...view, client_secret: secret } : view;
    },
  };
}

export type OidcClientService = ReturnType<typeof createOidcClientService>;
