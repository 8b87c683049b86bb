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
export function createAdapterFactory(core: Pick<Core, 'redis' | 'key'>, appId: string, findClient: (id: string) => Promise<StoredClient | null>) {
  const redis = core.redis.client;
  const k = (...parts: string[]) => core.key('oidc', `{${appId}}`, ...parts);

  class ClientAdapter implements Adapter {
    async find(id: string) {
      const c = await findClient(id);
      return c ? clientMetadata(c) : undefined;
    }
    async upsert(): Promise<void> {
      throw new Error('clients are managed through /v1/oidc_clients, not the provider');
    }
    async findByUid() { return undefined; }
    async findByUserCode() { return undefined; }
    async consume() {}
    async destroy() {}
    async revokeByGrantId() {}
  }

  class RedisAdapter implements Adapter {
    constructor(private readonly model: string) {}

    private key(id: string) {
      return k(this.model, id);
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const key = this.key(id);
      const ttl = Math.max(1, Math.ceil(expiresIn));
      const multi = redis.multi().set(key, JSON.stringify(payload), 'EX', ttl);
      if (this.model === 'Session' && payload.uid) multi.set(k('Session', 'uid', payload.uid), id, 'EX', ttl);
      if (GRANTABLE.has(this.model) && payload.grantId) {
        const grantKey = k('grant', payload.grantId);
        // The index lives as long as its longest member.
        multi.sadd(grantKey, key).expire(grantKey, ttl, 'GT').expire(grantKey, ttl, 'NX');
      }
      await multi.exec();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const [json, consumed] = await redis.mget(this.key(id), k('consumed', this.model, id));
      if (!json) return undefined;
      const payload = JSON.parse(json) as AdapterPayload;
      return consumed ? { ...payload, consumed: Number(consumed) } : payload;
    }

    async findByUid(uid: string) {
      const id = await redis.get(k('Session', 'uid', uid));
      return id ? this.find(id) : undefined;
    }

    async findByUserCode() {
      return undefined;
    }

    async consume(id: string): Promise<void> {
      const ttl = await redis.ttl(this.key(id));
      const set = await redis.set(k('consumed', this.model, id), String(Math.floor(Date.now() / 1000)), 'EX', Math.max(1, ttl), 'NX');
      // Two redemptions raced past the provider's own `consumed` check: only one may win.
      if (set !== 'OK') throw new errors.InvalidGrant('authorization code already consumed');
    }

    async destroy(id: string): Promise<void> {
      const json = await redis.get(this.key(id));
      const uid = json ? (JSON.parse(json) as AdapterPayload).uid : undefined;
      await redis.del(this.key(id), ...(this.model === 'Session' && uid ? [k('Session', 'uid', uid)] : []));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const grantKey = k('grant', grantId);
      const members = await redis.smembers(grantKey);
      await redis.del(grantKey, ...members);
    }
  }

  return (model: string): Adapter => (model === 'Client' ? new ClientAdapter() : new RedisAdapter(model));
}
