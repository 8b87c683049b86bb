import { and, asc, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { apiKeys, oidcClients } from '../../db/schema/index';
import type { ClientAuthMethod, OidcClient } from '../../../contract/index.js';
import type { KeyMode } from '../../lib/ids';

/** Which app and mode a client (or a request about clients) belongs to: always from a key or the console. */
export interface ClientScope {
  tenantId: string;
  appId: string;
  mode: KeyMode;
}

/** A client as the API and the console show it (contract/oidc.ts). */
export type OidcClientView = OidcClient;

/** What the provider needs to authenticate a client: its app, mode and the secret's hash. */
export interface StoredClient {
  id: string;
  tenantId: string;
  appId: string;
  mode: KeyMode;
  redirectUris: string[];
  tokenEndpointAuthMethod: ClientAuthMethod;
  secretHash: string | null;
}

export interface NewClient {
  id: string;
  name: string;
  redirectUris: string[];
  tokenEndpointAuthMethod: ClientAuthMethod;
  secretHash: string | null;
  secretPrefix: string | null;
}

type Row = typeof oidcClients.$inferSelect;

function toView(r: Row): OidcClientView {
  return {
    client_id: r.id,
    name: r.name,
    mode: r.mode,
    redirect_uris: r.redirectUris,
    token_endpoint_auth_method: r.tokenEndpointAuthMethod,
    client_secret_prefix: r.secretPrefix,
    created_at: r.createdAt.toISOString(),
  };
}

export function createOidcClientStore(db: Db) {
  const inScope = (s: ClientScope) => and(eq(oidcClients.tenantId, s.tenantId), eq(oidcClients.appId, s.appId), eq(oidcClients.mode, s.mode));

  return {
    async create(scope: ClientScope, c: NewClient): Promise<OidcClientView> {
      const [row] = await db.insert(oidcClients).values({ ...c, tenantId: scope.tenantId, appId: scope.appId, mode: scope.mode }).returning();
      return toView(row!);
    },

    async list(scope: ClientScope): Promise<OidcClientView[]> {
      const rows = await db.select().from(oidcClients).where(inScope(scope)).orderBy(asc(oidcClients.createdAt));
      return rows.map(toView);
    },

    async get(scope: ClientScope, id: string): Promise<OidcClientView | null> {
      const [row] = await db.select().from(oidcClients).where(and(inScope(scope), eq(oidcClients.id, id))).limit(1);
      return row ? toView(row) : null;
    },

    async remove(scope: ClientScope, id: string): Promise<boolean> {
      const rows = await db.delete(oidcClients).where(and(inScope(scope), eq(oidcClients.id, id))).returning({ id: oidcClients.id });
      return rows.length > 0;
    },

    /** The provider's lookup: a client of this app only, whatever its mode (the mode travels with it). */
    async findForApp(appId: string, id: string): Promise<StoredClient | null> {
      const [row] = await db.select().from(oidcClients).where(and(eq(oidcClients.appId, appId), eq(oidcClients.id, id))).limit(1);
      if (!row) return null;
      return {
        id: row.id, tenantId: row.tenantId, appId: row.appId, mode: row.mode,
        redirectUris: row.redirectUris, tokenEndpointAuthMethod: row.tokenEndpointAuthMethod, secretHash: row.secretHash,
      };
    },

    /** The publishable key the hosted page's element uses for this app and mode (the newest one not revoked). */
    async publishableKey(appId: string, mode: KeyMode): Promise<string | null> {
      const [row] = await db.select({ plain: apiKeys.plain }).from(apiKeys)
        .where(and(eq(apiKeys.appId, appId), eq(apiKeys.mode, mode), eq(apiKeys.kind, 'publishable'), isNull(apiKeys.revokedAt)))
        .orderBy(desc(apiKeys.createdAt))
        .limit(1);
      return row?.plain ?? null;
    },
  };
}

export type OidcClientStore = ReturnType<typeof createOidcClientStore>;
