import type { Request } from 'express';
import { z } from 'zod';
import type { Db } from '../../../db/client';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { getTenantApp } from '../apps/store';
import { idParam, type ConsoleRouter } from '../auth/guard';
import type { ConsolePorts } from '../ports';
import { oidcClientInput } from '../../../../contract/index.js';
import type { ClientScope } from '../../oidc/index';
import { audit, consoleActor } from '../../audit/index';

const modeQuery = z.object({ mode: z.enum(['test', 'live']).default('test') });

/**
 * The console's OpenID Connect page: the same service as /v1/oidc_clients, through the
 * console's doors (cookie session, tenant membership; admins to create or delete). Every
 * route names the app and a `?mode=`, both checked against the tenant.
 */
export function mountOidcConsoleRoutes(r: ConsoleRouter, deps: { db: Db; oidcClients: ConsolePorts['oidcClients']; publicUrl: () => string }): void {
  const svc = deps.oidcClients;
  const base = '/tenants/:tenantId/apps/:appId/oidc';

  async function scope(req: Request, tenantId: string): Promise<ClientScope> {
    const app = await getTenantApp(deps.db, tenantId, idParam(req, 'appId', 'app'));
    const { mode } = parse(modeQuery, { mode: req.query.mode }, 'query');
    return { tenantId, appId: app.id, mode };
  }

  r.read(`${base}/clients`, async (req, _res, ctx) => {
    const s = await scope(req, ctx.tenantId);
    return { issuer: `${deps.publicUrl()}/apps/${s.appId}`, data: await svc.store.list(s) };
  });

  r.write('post', `${base}/clients`, 'admin', async (req, res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const created = await svc.create(sc, parse(oidcClientInput, req.body ?? {}));
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: sc.appId, action: 'oidc_client.created', target: { type: 'oidc_client', id: created.client_id }, summary: { mode: sc.mode, name: created.name, redirectUris: created.redirect_uris } });
    res.status(201);
    return created;
  });

  r.write('delete', `${base}/clients/:clientId`, 'admin', async (req, _res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const clientId = idParam(req, 'clientId', 'cli');
    if (!(await svc.store.remove(sc, clientId))) throw new ApiError('not_found', 'No such OIDC client');
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: sc.appId, action: 'oidc_client.deleted', target: { type: 'oidc_client', id: clientId } });
    return undefined;
  });
}
