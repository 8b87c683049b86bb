import { z } from 'zod';
import { codeStyleSchema, envVersionSchema, phoneNumberSettingSchema } from '../../../../contract/common.js';
import type { Logger } from '../../../lib/logger';
import type { Db } from '../../../db/client';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { idParam, type ConsoleRouter } from '../auth/guard';
import type { ConsolePorts } from '../ports';
import { pageQuery } from '../../../lib/pagination';
import { originsSchema } from '../../apps/origins';
import { deleteApp, getTenantApp, hasLiveKeys, listApps, setUrlLinkEnabled, updateApp } from './store';
import { explainNoUrlLink, explainVerifyFailure, settingsAdvice } from './verify-advice';
import { audit, audited, consoleActor } from '../../audit/index';

const name = z.string().trim().min(1, 'is required').max(100);
const displayName = z.string().trim().max(60).nullable();
const logoUrl = z.union([z.literal(''), z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).max(500)]).nullable()
  .transform((v) => v || null);
const wechatAppId = z.union([z.literal(''), z.string().trim().regex(/^wx[0-9a-f]{16}$/i, 'must look like wx followed by 16 hex characters')]).nullable()
  .transform((v) => v || null);
const wechatSecret = z.string().trim().regex(/^[0-9a-f]{32}$/i, 'must be the 32-character AppSecret from mp.weixin.qq.com');
const mpPage = z.string().trim().regex(/^[A-Za-z0-9_\-/.]{1,128}$/, 'must be a page path like pages/scan-login/index')
  .refine((p) => !p.startsWith('/'), 'must not start with "/"');

const createBody = z.object({
  name,
  displayName: displayName.optional(),
  logoUrl: logoUrl.optional(),
  allowedOrigins: originsSchema.default([]),
  wechatAppId: wechatAppId.optional(),
  wechatSecret: wechatSecret.optional(),
  codeStyle: codeStyleSchema.optional(),
}).refine((b) => !b.wechatSecret || b.wechatAppId, { message: 'an AppSecret needs its AppID', path: ['wechatAppId'] });

const patchBody = z.object({
  name: name.optional(),
  displayName: displayName.optional(),
  logoUrl: logoUrl.optional(),
  allowedOrigins: originsSchema.optional(),
  wechatAppId: wechatAppId.optional(),
  wechatSecret: wechatSecret.nullable().optional(),
  mpPage: mpPage.optional(),
  envVersion: envVersionSchema.optional(),
  checkPath: z.boolean().optional(),
  codeStyle: codeStyleSchema.optional(),
  phoneNumber: phoneNumberSettingSchema.optional(),
  sessionTtlSeconds: z.number().int().min(30, 'must be at least 30 seconds').max(600, 'must be at most 600 seconds').optional(),
}).strict();

/** What an app's audit rows show of its settings: never the AppSecret, only whether one is set. */
function settingsSummary(a: { name: string; displayName: string | null; logoUrl: string | null; wechatAppId: string | null; allowedOrigins: string[] }) {
  return { name: a.name, displayName: a.displayName, logoUrl: a.logoUrl, wechatAppId: a.wechatAppId, allowedOrigins: a.allowedOrigins };
}

export function mountAppRoutes(r: ConsoleRouter, deps: ConsolePorts & { db: Db; masterKey: Buffer; logger: Logger }): void {
  const { db } = deps;

  r.read('/tenants/:tenantId/apps', async (req, _res, ctx) => {
    const q = parse(pageQuery, req.query, 'query');
    return listApps(db, ctx.tenantId, q.cursor, q.limit);
  });

  r.write('post', '/tenants/:tenantId/apps', 'admin', async (req, res, ctx) => {
    const body = parse(createBody, req.body);
    const created = await deps.apps.createApp({
      tenantId: ctx.tenantId,
      name: body.name,
      allowedOrigins: body.allowedOrigins,
      wechatAppId: body.wechatAppId ?? undefined,
      wechatSecret: body.wechatSecret,
      displayName: body.displayName ?? undefined,
      logoUrl: body.logoUrl ?? undefined,
      codeStyle: body.codeStyle,
    });
    await audit(db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: created.app.id, action: 'app.created', target: { type: 'app', id: created.app.id }, summary: { name: body.name, allowedOrigins: body.allowedOrigins, wechatAppId: body.wechatAppId ?? null } });
    res.status(201);
    // The only time secret keys are ever shown.
    return { app: await getTenantApp(db, ctx.tenantId, created.app.id), keys: created.keys };
  });

  r.read('/tenants/:tenantId/apps/:appId', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    return { ...app, advice: settingsAdvice(app) };
  });

  r.write('patch', '/tenants/:tenantId/apps/:appId', 'admin', async (req, _res, ctx) => {
    const appId = idParam(req, 'appId', 'app');
    const before = await getTenantApp(db, ctx.tenantId, appId);
    const body = parse(patchBody, req.body);
    const nextAppId = body.wechatAppId === undefined ? before.wechatAppId : body.wechatAppId;
    const nextHasSecret = body.wechatSecret === undefined ? before.hasWechatSecret : body.wechatSecret !== null;
    if (nextHasSecret && !nextAppId) throw new ApiError('bad_request', 'body.wechatAppId: an AppSecret needs its AppID');
    // A different AppID makes the stored secret meaningless: it must be entered again.
    const secret = body.wechatAppId !== undefined && body.wechatAppId !== before.wechatAppId && body.wechatSecret === undefined ? null : body.wechatSecret;
    const app = await audited(db, consoleActor(req, ctx.account), (tx) => updateApp(tx, deps.masterKey, ctx.tenantId, appId, { ...body, wechatSecret: secret }),
      (a) => ({ tenantId: ctx.tenantId, appId, action: 'app.updated', target: { type: 'app', id: appId }, summary: { before: settingsSummary(before), after: settingsSummary(a), appSecretChanged: body.wechatSecret !== undefined } }));
    // Live keys appear the first time the app can actually go live.
    let liveKeys;
    if (app.liveReady && !(await hasLiveKeys(db, appId))) liveKeys = await deps.apps.createKeyPair({ id: appId, tenantId: ctx.tenantId }, 'live');
    deps.apps.invalidate(appId);
    return { ...app, advice: settingsAdvice(app), ...(liveKeys ? { newLiveKeys: liveKeys } : {}) };
  });

  r.write('delete', '/tenants/:tenantId/apps/:appId', 'admin', async (req, _res, ctx) => {
    const appId = idParam(req, 'appId', 'app');
    await audited(db, consoleActor(req, ctx.account), (tx) => deleteApp(tx, ctx.tenantId, appId),
      { tenantId: ctx.tenantId, appId, action: 'app.deleted', target: { type: 'app', id: appId } });
    deps.apps.invalidate(appId);
    return undefined;
  });

  r.write('post', '/tenants/:tenantId/apps/:appId/verify', 'admin', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    if (!app.wechatAppId || !app.hasWechatSecret) {
      throw new ApiError('bad_request', 'Add the mini-program\'s AppID and AppSecret first, then verify');
    }
    const advice = settingsAdvice(app);
    // The gateway answers every WeChat failure as a failed check, in plain words.
    const result = await deps.wechat.verifyApp({ appId: app.id, mode: 'live' });
    const checks = result.checks.map((c) => ({
      name: c.name,
      ok: c.ok,
      ...(c.ok ? {} : { failure: c.name === 'url_link' ? explainNoUrlLink(c.errcode ?? 0, c.message ?? '') : explainVerifyFailure(c.errcode ?? 0, c.errmsg ?? c.message ?? '', app, c.message) }),
    }));
    const failed = checks.find((c) => !c.ok);
    if (failed) deps.logger.info({ appId: app.id, check: failed.name }, 'console verify failed');
    // Only a verify that reached the URL Link step says anything about links.
    const urlLink = checks.find((c) => c.name === 'url_link');
    if (urlLink && urlLink.ok !== app.urlLinkEnabled) {
      await setUrlLinkEnabled(db, ctx.tenantId, app.id, urlLink.ok);
      deps.apps.invalidate(app.id);
    }
    return { ok: result.ok, checks, advice };
  });
}
