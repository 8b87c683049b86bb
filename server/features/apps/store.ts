import { and, asc, eq, isNull, notExists } from 'drizzle-orm';
import type { Core } from '../../core';
import { apiKeys, apps, memberships, tenants } from '../../db/schema/index';
import { decrypt, encrypt, sha256 } from '../../lib/crypto';
import { newApiKey, newId, parseApiKey, type KeyMode } from '../../lib/ids';
import type { CodeStyle, EnvVersion, KeyPair, PhoneNumberSetting } from '../../../contract/index.js';

export interface AppRecord {
  id: string;
  tenantId: string;
  name: string;
  displayName: string | null;
  logoUrl: string | null;
  wechatAppId: string | null;
  hasWechatSecret: boolean;
  allowedOrigins: string[];
  mpPage: string;
  envVersion: EnvVersion;
  checkPath: boolean;
  sessionTtlSeconds: number;
  tokenTtlSeconds: number;
  urlLinkEnabled: boolean;
  codeStyle: CodeStyle;
  phoneNumber: PhoneNumberSetting;
}

export type { KeyPair };

export interface CreateAppInput {
  tenantId: string;
  name: string;
  allowedOrigins: string[];
  wechatAppId?: string;
  wechatSecret?: string;
  displayName?: string;
  logoUrl?: string;
  codeStyle?: CodeStyle;
}

export interface AppsStore {
  getApp(appId: string): Promise<AppRecord | null>;
  getWechatSecret(appId: string): Promise<string | null>;
  resolvePublishableKey(key: string): Promise<{ app: AppRecord; mode: KeyMode } | null>;
  resolveSecretKey(key: string): Promise<{ app: AppRecord; mode: KeyMode; keyId: string } | null>;
  createApp(input: CreateAppInput): Promise<{ app: AppRecord; keys: { test: KeyPair; live?: KeyPair } }>;
  /** Mint a key pair for a mode (CLI, console). The secret is returned once and stored hashed. */
  createKeyPair(app: Pick<AppRecord, 'id' | 'tenantId'>, mode: KeyMode, name?: string): Promise<KeyPair>;
  /** Drop cached copies after an edit so this instance sees it at once (others within CACHE_MS). */
  invalidate(appId: string): void;
  /**
   * The tenant a self-hosted install puts its CLI-created apps in. Only a tenant nobody is a
   * member of matches: anyone can sign up an organisation with the same name, and the
   * operator's apps must never land in it.
   */
  ensureDefaultTenant(name?: string): Promise<string>;
}

/** Key and app lookups sit on the hot path of every socket; a few seconds of staleness is the trade. */
const CACHE_MS = 5_000;

type AppRow = typeof apps.$inferSelect;

export function toAppRecord(row: AppRow): AppRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    displayName: row.displayName,
    logoUrl: row.logoUrl,
    wechatAppId: row.wechatAppId,
    hasWechatSecret: row.wechatSecretEnc !== null,
    allowedOrigins: row.allowedOrigins,
    mpPage: row.mpPage,
    envVersion: row.envVersion,
    checkPath: row.checkPath,
    sessionTtlSeconds: row.sessionTtlSeconds,
    tokenTtlSeconds: row.tokenTtlSeconds,
    urlLinkEnabled: row.urlLinkEnabled,
    codeStyle: row.codeStyle,
    phoneNumber: row.phoneNumber,
  };
}

export const appSecretContext = (appId: string) => `app-secret:${appId}`;

export function createAppsStore(core: Pick<Core, 'db' | 'config'>): AppsStore {
  const { db } = core;
  const appCache = new Map<string, { at: number; app: AppRecord | null }>();
  const keyCache = new Map<string, { at: number; hit: { appId: string; mode: KeyMode; keyId: string; kind: string } | null }>();
  const lastUsedWritten = new Map<string, number>();

  async function getApp(appId: string): Promise<AppRecord | null> {
    const cached = appCache.get(appId);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.app;
    const [row] = await db.select().from(apps).where(eq(apps.id, appId)).limit(1);
    const app = row ? toAppRecord(row) : null;
    appCache.set(appId, { at: Date.now(), app });
    return app;
  }

  async function lookupKey(key: string) {
    const hash = sha256(key);
    const cached = keyCache.get(hash);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.hit;
    const [row] = await db
      .select({ id: apiKeys.id, appId: apiKeys.appId, mode: apiKeys.mode, kind: apiKeys.kind })
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
      .limit(1);
    const hit = row ? { appId: row.appId, mode: row.mode, keyId: row.id, kind: row.kind } : null;
    keyCache.set(hash, { at: Date.now(), hit });
    if (keyCache.size > 10_000) keyCache.clear();
    return hit;
  }

  async function createKeyPair(app: Pick<AppRecord, 'id' | 'tenantId'>, mode: KeyMode, name?: string): Promise<KeyPair> {
    const publishable = newApiKey('pk', mode);
    const secret = newApiKey('sk', mode);
    await db.insert(apiKeys).values([
      { id: newId('key'), tenantId: app.tenantId, appId: app.id, kind: 'publishable', mode, keyHash: sha256(publishable), plain: publishable, displayPrefix: publishable.slice(0, 12), name: name ?? null },
      { id: newId('key'), tenantId: app.tenantId, appId: app.id, kind: 'secret', mode, keyHash: sha256(secret), displayPrefix: `${secret.slice(0, 12)}…${secret.slice(-4)}`, name: name ?? null },
    ]);
    return { publishable, secret };
  }

  return {
    getApp,
    async getWechatSecret(appId) {
      const [row] = await db.select({ enc: apps.wechatSecretEnc }).from(apps).where(eq(apps.id, appId)).limit(1);
      return row?.enc ? decrypt(core.config.masterKey, row.enc, appSecretContext(appId)) : null;
    },
    async resolvePublishableKey(key) {
      const parsed = parseApiKey(key);
      if (parsed?.kind !== 'pk') return null;
      const hit = await lookupKey(key);
      if (!hit || hit.kind !== 'publishable') return null;
      const app = await getApp(hit.appId);
      return app ? { app, mode: hit.mode } : null;
    },
    async resolveSecretKey(key) {
      const parsed = parseApiKey(key);
      if (parsed?.kind !== 'sk') return null;
      const hit = await lookupKey(key);
      if (!hit || hit.kind !== 'secret') return null;
      const app = await getApp(hit.appId);
      if (!app) return null;
      // last-used is for people reading the console: once a minute per key is plenty.
      const last = lastUsedWritten.get(hit.keyId) ?? 0;
      if (Date.now() - last > 60_000) {
        lastUsedWritten.set(hit.keyId, Date.now());
        void db.update(apiKeys).set({ lastUsedAt: new Date() }).where(eq(apiKeys.id, hit.keyId)).catch(() => {});
      }
      return { app, mode: hit.mode, keyId: hit.keyId };
    },
    async createApp(input) {
      const id = newId('app');
      const [row] = await db.insert(apps).values({
        id,
        tenantId: input.tenantId,
        name: input.name,
        displayName: input.displayName ?? null,
        logoUrl: input.logoUrl ?? null,
        allowedOrigins: input.allowedOrigins,
        wechatAppId: input.wechatAppId ?? null,
        ...(input.codeStyle ? { codeStyle: input.codeStyle } : {}),
        wechatSecretEnc: input.wechatSecret ? encrypt(core.config.masterKey, input.wechatSecret, appSecretContext(id)) : null,
      }).returning();
      const app = toAppRecord(row!);
      const test = await createKeyPair(app, 'test');
      const live = app.wechatAppId && app.hasWechatSecret ? await createKeyPair(app, 'live') : undefined;
      return { app, keys: live ? { test, live } : { test } };
    },
    createKeyPair,
    invalidate(appId) {
      appCache.delete(appId);
      keyCache.clear();
    },
    async ensureDefaultTenant(name = 'Self-hosted') {
      const [found] = await db.select({ id: tenants.id }).from(tenants)
        .where(and(eq(tenants.name, name), notExists(db.select({ one: memberships.tenantId }).from(memberships).where(eq(memberships.tenantId, tenants.id)))))
        .orderBy(asc(tenants.createdAt))
        .limit(1);
      if (found) return found.id;
      const id = newId('ten');
      await db.insert(tenants).values({ id, name });
      return id;
    },
  };
}
