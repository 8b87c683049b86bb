import type { Db } from '../../../db/client';
import { ApiError } from '../../../lib/errors';
import { idParam, type ConsoleRouter } from '../auth/guard';
import { getTenantApp } from '../apps/store';
import type { ConsolePorts } from '../ports';
import { audit, consoleActor } from '../../audit/index';

/** End users' rights from the Users page: the same export and erasure as the server API. */
export function mountUserRightsRoutes(r: ConsoleRouter, deps: Pick<ConsolePorts, 'users'> & { db: Db }): void {
  const scope = async (tenantId: string, appId: string) => ({ tenantId, appId: (await getTenantApp(deps.db, tenantId, appId)).id });

  r.read('/tenants/:tenantId/apps/:appId/users/:userId/export', async (req, res, ctx) => {
    const data = await deps.users.exportUser(await scope(ctx.tenantId, idParam(req, 'appId', 'app')), idParam(req, 'userId', 'usr'));
    if (!data) throw new ApiError('not_found', 'No such user');
    res.setHeader('Cache-Control', 'no-store');
    return data;
  });

  r.write('delete', '/tenants/:tenantId/apps/:appId/users/:userId', 'admin', async (req, _res, ctx) => {
    const id = idParam(req, 'userId', 'usr');
    const appId = idParam(req, 'appId', 'app');
    if (!(await deps.users.erase(await scope(ctx.tenantId, appId), id))) throw new ApiError('not_found', 'No such user');
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId, action: 'end_user.erased', target: { type: 'end_user', id } });
    return { id, deleted: true };
  });
}
