import type { z } from 'zod';
import { oidcClientInput, type CreatedOidcClient } from '../../../contract/index.js';
import { sha256 } from '../../lib/crypto';
import { ApiError } from '../../lib/errors';
import { newId, randomBase64url, type KeyMode } from '../../lib/ids';
import type { ClientScope, OidcClientStore } from './store';

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

export type CreatedClient = CreatedOidcClient;

export function createOidcClientService(store: OidcClientStore) {
  return {
    store,
    async create(scope: ClientScope, input: z.output<typeof oidcClientInput>): Promise<CreatedClient> {
      for (const uri of input.redirect_uris) {
        const problem = redirectUriProblem(uri, scope.mode);
        // Same shape as lib/http's parse(): the field and the reason, so a form can point at it.
        if (problem) throw new ApiError('bad_request', `body.redirect_uris: ${problem}`, { field: 'redirect_uris', reason: problem });
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
