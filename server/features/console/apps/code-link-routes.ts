import type { Db } from '../../../db/client';
import { parse } from '../../../lib/http';
import { idParam, type ConsoleRouter } from '../auth/guard';
import { checkFileBody, deleteCheckFile, getCheckFile, putCheckFile } from '../../codes/index';
import { linkRulePrefix } from '../../codes/index';
import { getTenantApp } from './store';

/**
 * What a link-style app needs set up in WeChat (DESIGN §11): the exact rule prefix, the page,
 * and the check file WeChat fetches from under that prefix, which the owner uploads here.
 */
export function mountCodeLinkRoutes(r: ConsoleRouter, deps: { db: Db; publicUrl: () => string }): void {
  const { db } = deps;
  const setup = async (tenantId: string, appId: string) => {
    const app = await getTenantApp(db, tenantId, appId);
    const prefix = linkRulePrefix(deps.publicUrl(), app.id);
    const checkFile = await getCheckFile(db, tenantId, app.id);
    return {
      codeStyle: app.codeStyle,
      rulePrefix: prefix,
      page: app.mpPage,
      checkFile: checkFile ? { ...checkFile, url: `${prefix}${checkFile.fileName}` } : null,
    };
  };

  r.read('/tenants/:tenantId/apps/:appId/code-link', async (req, _res, ctx) => setup(ctx.tenantId, idParam(req, 'appId', 'app')));

  r.write('put', '/tenants/:tenantId/apps/:appId/code-link/check-file', 'admin', async (req, _res, ctx) => {
    const appId = idParam(req, 'appId', 'app');
    // Another tenant's app id is not found, whatever the body: nothing about it leaks through validation.
    await getTenantApp(db, ctx.tenantId, appId);
    const body = parse(checkFileBody, req.body);
    await putCheckFile(db, ctx.tenantId, appId, body);
    return setup(ctx.tenantId, appId);
  });

  r.write('delete', '/tenants/:tenantId/apps/:appId/code-link/check-file', 'admin', async (req, _res, ctx) => {
    const appId = idParam(req, 'appId', 'app');
    await getTenantApp(db, ctx.tenantId, appId);
    await deleteCheckFile(db, ctx.tenantId, appId);
    return undefined;
  });
}
