import { errors } from 'oidc-provider';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Core } from '../../core';
import type { StoredClient } from './store';

/** Models whose records belong to a grant and go when the grant is revoked (a reused code revokes its tokens). */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken']);

/** What the provider sees of one of our clients: OAuth metadata, plus our mode under `wsl_mode`. */
export function clientMetadata(c: StoredClient): AdapterPayload {
  return {
    client_id: c.id,
    // Only the hash is stored; Client#compareClientSecret is overridden to hash what is presented.
    ...(c.secretHash ? { client_secret: c.secretHash } : {}),
    redirect_uris: c.redirectUris,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
    wsl_mode: c.mode,
  };
}

/**
 * oidc-provider's storage for one app. Short-lived records (sessions, interactions, codes,
 * access tokens, grants) live in Redis under the app's hash tag with the provider's TTL;
 * clients come from Postgres (the oidc_clients table) and are never written through here.
 *
 * Keys: `{prefix}:oidc:{appId}:<Model>:<id>`, `…:Session:uid:<uid>` → session id,
 * `…:consumed:<id>` (a code's one use, set NX so two redemptions can't both win),
 * `…:grant:<grantId>` → set of record keys to delete when the grant is revoked.
 */
export function createAdapterFactory(core: Pick<Core, 'redis' | 'key' | 'logger'>, appId: string, findClient: (id: string) => Promise<StoredClient | null>) {
  const redis = core.redis.client;
  const k = (...parts: string[]) => core.key('oidc', `{${appId}}`, ...parts);

  /**
   * A store that is down is RFC 6749's `temporarily_unavailable` with a 503, not the
   * provider's opaque 500 `server_error`. The provider's own refusals pass through.
   */
  function guard<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (err instanceof errors.OIDCProviderError) throw err;
        core.logger.warn({ err, appId }, 'oidc storage unavailable');
        const down = new errors.OIDCProviderError(503, 'temporarily_unavailable');
        down.expose = true;
        down.error_description = 'the login service is briefly unavailable; try again';
        throw down;
      }
    };
  }

  const clients: Adapter = {
    find: guard(async (id: string) => {
      const c = await findClient(id);
      return c ? clientMetadata(c) : undefined;
    }),
    upsert: async () => {
      throw new Error('clients are managed through /v1/oidc_clients, not the provider');
    },
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
    consume: async () => {},
    destroy: async () => {},
    revokeByGrantId: async () => {},
  };

  function records(model: string): Adapter {
    const key = (id: string) => k(model, id);
    const find = guard(async (id: string): Promise<AdapterPayload | undefined> => {
      const [json, consumed] = await redis.mget(key(id), k('consumed', model, id));
      if (!json) return undefined;
      const payload = JSON.parse(json) as AdapterPayload;
      return consumed ? { ...payload, consumed: Number(consumed) } : payload;
    });
    return {
      find,
      upsert: guard(async (id: string, payload: AdapterPayload, expiresIn: number) => {
        const ttl = Math.max(1, Math.ceil(expiresIn));
        const multi = redis.multi().set(key(id), JSON.stringify(payload), 'EX', ttl);
        if (model === 'Session' && payload.uid) multi.set(k('Session', 'uid', payload.uid), id, 'EX', ttl);
        if (GRANTABLE.has(model) && payload.grantId) {
          const grantKey = k('grant', payload.grantId);
          // The index lives as long as its longest member.
          multi.sadd(grantKey, key(id)).expire(grantKey, ttl, 'GT').expire(grantKey, ttl, 'NX');
        }
        await multi.exec();
      }),
      findByUid: guard(async (uid: string) => {
        const id = await redis.get(k('Session', 'uid', uid));
        return id ? find(id) : undefined;
      }),
      findByUserCode: async () => undefined,
      consume: guard(async (id: string) => {
        const ttl = await redis.ttl(key(id));
        const set = await redis.set(k('consumed', model, id), String(Math.floor(Date.now() / 1000)), 'EX', Math.max(1, ttl), 'NX');
        // Two redemptions raced past the provider's own `consumed` check: only one may win.
        if (set !== 'OK') throw new errors.InvalidGrant('authorization code already consumed');
      }),
      destroy: guard(async (id: string) => {
        const json = await redis.get(key(id));
        const uid = json ? (JSON.parse(json) as AdapterPayload).uid : undefined;
        await redis.del(key(id), ...(model === 'Session' && uid ? [k('Session', 'uid', uid)] : []));
      }),
      revokeByGrantId: guard(async (grantId: string) => {
        const grantKey = k('grant', grantId);
        const members = await redis.smembers(grantKey);
        await redis.del(grantKey, ...members);
      }),
    };
  }

  return (model: string): Adapter => (model === 'Client' ? clients : records(model));
}
