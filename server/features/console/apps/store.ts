import { and, desc, eq, sql } from 'drizzle-orm';
import type { App, CodeStyle, EnvVersion, PhoneNumberSetting } from '../../../../contract/index.js';
import type { Db } from '../../../db/client';
import { apiKeys, apps } from '../../../db/schema/index';
import { encrypt } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';
import { appSecretContext } from '../../apps/store';
import { afterCursor, decodeCursor, microsOf, toPage, type Page } from '../../../lib/pagination';

type AppRow = typeof apps.$inferSelect;

/** What the console shows of an app (the contract's App): never the AppSecret, only whether one is set. */
export type ConsoleApp = Omit<App, 'advice'>;

export function toConsoleApp(row: AppRow): ConsoleApp {
  return {
    id: row.id,
    name: row.name,
    displayName: row.displayName,
    logoUrl: row.logoUrl,
    wechatAppId: row.wechatAppId,
    hasWechatSecret: row.wechatSecretEnc !== null,
    liveReady: Boolean(row.wechatAppId && row.wechatSecretEnc),
    allowedOrigins: row.allowedOrigins,
    mpPage: row.mpPage,
    envVersion: row.envVersion,
    checkPath: row.checkPath,
    sessionTtlSeconds: row.sessionTtlSeconds,
    tokenTtlSeconds: row.tokenTtlSeconds,
    urlLinkEnabled: row.urlLinkEnabled,
    codeStyle: row.codeStyle,
    phoneNumber: row.phoneNumber,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Every read goes through the tenant: another tenant's app id is simply not found. */
export async function getTenantApp(db: Db, tenantId: string, appId: string): Promise<ConsoleApp> {
  const [row] = await db.select().from(apps).where(and(eq(apps.tenantId, tenantId), eq(apps.id, appId))).limit(1);
  if (!row) throw new ApiError('not_found', 'No such app');
  return toConsoleApp(row);
}

export async function listApps(db: Db, tenantId: string, cursor: string | undefined, limit: number): Promise<Page<ConsoleApp>> {
  const rows = await db.select({ row: apps, _us: microsOf(apps.createdAt) }).from(apps)
    .where(and(eq(apps.tenantId, tenantId), afterCursor(apps.createdAt, apps.id, decodeCursor(cursor))))
    .orderBy(desc(apps.createdAt), desc(apps.id))
    .limit(limit + 1);
  return toPage(rows.map((r) => ({ ...toConsoleApp(r.row), _us: r._us })), limit);
}

export interface AppPatch {
  name?: string;
  displayName?: string | null;
  logoUrl?: string | null;
  wechatAppId?: string | null;
  /** null clears it; a string replaces it; absent leaves it. */
  wechatSecret?: string | null;
  allowedOrigins?: string[];
  mpPage?: string;
  envVersion?: EnvVersion;
  checkPath?: boolean;
  sessionTtlSeconds?: number;
  codeStyle?: CodeStyle;
  phoneNumber?: PhoneNumberSetting;
}

export async function updateApp(db: Db, masterKey: Buffer, tenantId: string, appId: string, patch: AppPatch): Promise<ConsoleApp> {
  const { wechatSecret, ...rest } = patch;
  const set: Partial<typeof apps.$inferInsert> = { ...rest, updatedAt: new Date() };
  if (wechatSecret !== undefined) set.wechatSecretEnc = wechatSecret === null ? null : encrypt(masterKey, wechatSecret, appSecretContext(appId));
  // A changed AppID invalidates whatever a previous verification established.
  if (patch.wechatAppId !== undefined) set.urlLinkEnabled = false;
  const [row] = await db.update(apps).set(set).where(and(eq(apps.tenantId, tenantId), eq(apps.id, appId))).returning();
  if (!row) throw new ApiError('not_found', 'No such app');
  return toConsoleApp(row);
}

/** What the last Verify found: whether WeChat makes URL Links ("Open in WeChat") for this app. */
export async function setUrlLinkEnabled(db: Db, tenantId: string, appId: string, enabled: boolean): Promise<void> {
  await db.update(apps).set({ urlLinkEnabled: enabled }).where(and(eq(apps.tenantId, tenantId), eq(apps.id, appId)));
}

export async function deleteApp(db: Db, tenantId: string, appId: string): Promise<void> {
  const r = await db.delete(apps).where(and(eq(apps.tenantId, tenantId), eq(apps.id, appId))).returning({ id: apps.id });
  if (!r.length) throw new ApiError('not_found', 'No such app');
}

export async function hasLiveKeys(db: Db, appId: string): Promise<boolean> {
  const [r] = await db.select({ n: sql<number>`count(*)::int` }).from(apiKeys).where(and(eq(apiKeys.appId, appId), eq(apiKeys.mode, 'live')));
  return (r?.n ?? 0) > 0;
}
