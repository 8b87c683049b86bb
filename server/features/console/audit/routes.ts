import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../db/client';
import { tenants } from '../../../db/schema/index';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { ROLE_RANK, type ConsoleRouter, type TenantCtx } from '../auth/guard';
import { filterTime, pageQuery } from '../../../lib/pagination';
import { audit, auditCsv, consoleActor, listAuditEvents } from '../../audit/index';

const name = z.string().trim().max(100).regex(/^[A-Za-z0-9_.:-]*$/, 'has characters no action, id or type has').optional();
const filterQuery = z.object({
  action: name,
  actorId: name,
  targetType: name,
  targetId: name,
  appId: name,
  since: filterTime.optional(),
  until: filterTime.optional(),
});
/** The most rows one CSV export holds; narrow the filter for more. */
const CSV_MAX_ROWS = 50_000;

// Events carry members' emails and addresses: admins and owners read them, viewers don't.
function requireAdmin(ctx: TenantCtx): void {
  if (ROLE_RANK[ctx.role] < ROLE_RANK.admin) throw new ApiError('forbidden', 'Only admins and owners can read the audit log');
}

export function mountAuditConsoleRoutes(r: ConsoleRouter, deps: { db: Db }): void {
  const { db } = deps;

  r.read('/tenants/:tenantId/audit', async (req, _res, ctx) => {
    requireAdmin(ctx);
    const q = parse(filterQuery.extend(pageQuery.shape), req.query, 'query');
    const page = await listAuditEvents(db, { tenantId: ctx.tenantId }, q, q);
    const [t] = await db.select({ retentionDays: tenants.auditRetentionDays }).from(tenants).where(eq(tenants.id, ctx.tenantId));
    return { ...page, retentionDays: t?.retentionDays };
  });

  r.read('/tenants/:tenantId/audit.csv', async (req, res, ctx) => {
    requireAdmin(ctx);
    const q = parse(filterQuery, req.query, 'query');
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="audit-${ctx.tenantId}.csv"`);
    // Page by page, so a large log never sits whole in memory.
    let cursor: string | undefined;
    let sent = 0;
    do {
      const page = await listAuditEvents(db, { tenantId: ctx.tenantId }, q, { cursor, limit: 500 });
      res.write(auditCsv(page.data, sent === 0));
      sent += page.data.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && sent < CSV_MAX_ROWS);
    res.end();
    return undefined;
  });

  r.write('patch', '/tenants/:tenantId/audit/settings', 'owner', async (req, _res, ctx) => {
    const body = parse(z.object({ retentionDays: z.number().int().min(7).max(3650) }), req.body);
    return db.transaction(async (tx) => {
      const [before] = await tx.select({ retentionDays: tenants.auditRetentionDays }).from(tenants).where(eq(tenants.id, ctx.tenantId)).for('update');
      await tx.update(tenants).set({ auditRetentionDays: body.retentionDays }).where(eq(tenants.id, ctx.tenantId));
      await audit(tx, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, action: 'audit.retention_changed', target: { type: 'tenant', id: ctx.tenantId }, summary: { before: before?.retentionDays, after: body.retentionDays } });
      return { retentionDays: body.retentionDays };
    });
  });
}
