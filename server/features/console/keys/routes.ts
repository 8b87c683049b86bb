import { z } from 'zod';
import type { Db } from '../../../db/client';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { idParam, requireVerified, type ConsoleRouter } from '../auth/guard';
import { getTenantApp } from '../apps/store';
import type { ConsolePorts } from '../ports';
import { createSecretKey, listKeys, listSigningKeys, revokeKey } from './store';
import { audit, audited, consoleActor } from '../../audit/index';

export function mountKeyRoutes(r: ConsoleRouter, deps: ConsolePorts & { db: Db }): void {
  const { db } = deps;

  r.read('/tenants/:tenantId/apps/:appId/keys', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    return { data: await listKeys(db, ctx.tenantId, app.id) };
  });

  r.write('post', '/tenants/:tenantId/apps/:appId/keys', 'admin', async (req, res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    const body = parse(z.object({ name: z.string().trim().min(1, 'is required').max(60), mode: z.enum(['test', 'live']) }), req.body);
    if (body.mode === 'live' && !app.liveReady) throw new ApiError('bad_request', 'Live keys need the mini-program\'s AppID and AppSecret first');
    if (body.mode === 'live') requireVerified(ctx);
    const key = await audited(db, consoleActor(req, ctx.account), (tx) => createSecretKey(tx, ctx.tenantId, app.id, body.mode, body.name),
      (k) => ({ tenantId: ctx.tenantId, appId: app.id, action: 'key.created', target: { type: 'api_key', id: k.id }, summary: { mode: k.mode, name: k.name, displayPrefix: k.displayPrefix } }));
    res.status(201);
    return key;
  });

  r.write('delete', '/tenants/:tenantId/apps/:appId/keys/:keyId', 'admin', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    const keyId = idParam(req, 'keyId', 'key');
    await audited(db, consoleActor(req, ctx.account), (tx) => revokeKey(tx, ctx.tenantId, app.id, keyId),
      { tenantId: ctx.tenantId, appId: app.id, action: 'key.revoked', target: { type: 'api_key', id: keyId } });
    deps.apps.invalidate(app.id);
    return undefined;
  });

  r.read('/tenants/:tenantId/apps/:appId/signing-keys', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    return { data: await listSigningKeys(db, ctx.tenantId, app.id) };
  });

  r.write('post', '/tenants/:tenantId/apps/:appId/signing-keys/rotate', 'admin', async (req, res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    const { kid } = await deps.tokens.rotateSigningKey(app.id);
    await audit(db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: app.id, action: 'signing_key.rotated', target: { type: 'signing_key', id: kid } });
    res.status(201);
    return { kid, data: await listSigningKeys(db, ctx.tenantId, app.id) };
  });
}
