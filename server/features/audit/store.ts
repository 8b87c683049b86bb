import { and, desc, eq, lt, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { auditEvents, tenants } from '../../db/schema/index';
import { afterCursor, decodeCursor, microsOf, toPage, type Page } from '../../lib/pagination';

export interface AuditEvent {
  id: string;
  at: string;
  actor: { type: string; id?: string; email?: string };
  action: string;
  target: { type: string; id: string };
  ip?: string;
  summary?: Record<string, unknown>;
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  appId?: string;
  since?: string;
  until?: string;
}

type Row = typeof auditEvents.$inferSelect;

function toEvent(r: Row): AuditEvent {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actor: { type: r.actorType, ...(r.actorId ? { id: r.actorId } : {}), ...(r.actorEmail ? { email: r.actorEmail } : {}) },
    action: r.action,
    target: { type: r.targetType, id: r.targetId },
    ...(r.ip ? { ip: r.ip } : {}),
    ...(r.summary ? { summary: r.summary } : {}),
  };
}

function filters(f: AuditFilter): SQL[] {
  const out: SQL[] = [];
  // An action filter ending in `.` matches the family (`key.` → key.created, key.revoked).
  if (f.action) out.push(f.action.endsWith('.') ? sql`${auditEvents.action} like ${f.action.replace(/[%_\\]/g, '\\$&') + '%'}` : eq(auditEvents.action, f.action));
  if (f.actorId) out.push(eq(auditEvents.actorId, f.actorId));
  if (f.targetType) out.push(eq(auditEvents.targetType, f.targetType));
  if (f.targetId) out.push(eq(auditEvents.targetId, f.targetId));
  if (f.appId) out.push(eq(auditEvents.appId, f.appId));
  if (f.since) out.push(sql`${auditEvents.at} >= ${f.since}::timestamptz`);
  if (f.until) out.push(sql`${auditEvents.at} < ${f.until}::timestamptz`);
  return out;
}

/** One tenant's events, newest first. `scope` is the tenant (console) or one app of it (API). */
export async function listAuditEvents(
  db: DbOrTx,
  scope: { tenantId: string; appId?: string },
  f: AuditFilter,
  page: { cursor?: string; limit: number },
): Promise<Page<AuditEvent>> {
  const where = [eq(auditEvents.tenantId, scope.tenantId), ...filters({ ...f, appId: scope.appId ?? f.appId })];
  const after = afterCursor(auditEvents.at, auditEvents.id, decodeCursor(page.cursor));
  if (after) where.push(after);
  const rows = await db.select({ row: auditEvents, _us: microsOf(auditEvents.at) }).from(auditEvents)
    .where(and(...where)).orderBy(desc(auditEvents.at), desc(auditEvents.id)).limit(page.limit + 1);
  const p = toPage(rows.map((r) => ({ ...toEvent(r.row), _us: r._us })), page.limit);
  return p;
}

/** Deletes events older than each tenant's retention; returns how many went. */
export async function sweepAuditEvents(db: DbOrTx): Promise<number> {
  const gone = await db.delete(auditEvents)
    .where(lt(auditEvents.at, sql`now() - (select ${tenants.auditRetentionDays} from ${tenants} where ${tenants.id} = ${auditEvents.tenantId}) * interval '1 day'`))
    .returning({ id: auditEvents.id });
  return gone.length;
}

const CSV_COLUMNS = ['id', 'at', 'actor_type', 'actor_id', 'actor_email', 'action', 'target_type', 'target_id', 'ip', 'summary'] as const;

/** RFC 4180 quoting; a leading = + - @ is prefixed so a spreadsheet never runs a cell as a formula. */
function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditCsv(events: AuditEvent[], header: boolean): string {
  const lines = events.map((e) => [e.id, e.at, e.actor.type, e.actor.id ?? '', e.actor.email ?? '', e.action, e.target.type, e.target.id, e.ip ?? '', e.summary ? JSON.stringify(e.summary) : '']
    .map(csvCell).join(','));
  return (header ? CSV_COLUMNS.join(',') + '\r\n' : '') + lines.map((l) => l + '\r\n').join('');
}
