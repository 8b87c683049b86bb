import { z } from 'zod';
import type { Db } from '../../../db/client';
import { parse } from '../../../lib/http';
import { idParam, type ConsoleRouter } from '../auth/guard';
import { getTenantApp } from '../apps/store';
import { filterTime, pageQuery } from '../../../lib/pagination';
import { dailyStats, listEvents, liveLogins, recentOrigins, searchUsers, stillMember } from './store';
import type { LiveStreams } from './stream';

const mode = z.enum(['test', 'live']).optional();

const usersQuery = pageQuery.extend({ q: z.string().max(100).optional(), mode });
const eventsQuery = pageQuery.extend({
  status: z.enum(['succeeded', 'cancelled', 'expired', 'failed']).optional(),
  mode,
  origin: z.string().max(300).optional(),
  from: filterTime.optional(),
  to: filterTime.optional(),
});
const statsQuery = z.object({ days: z.coerce.number().int().min(1).max(90).default(30), mode });

export function mountActivityRoutes(r: ConsoleRouter, deps: { db: Db; streams: LiveStreams }): void {
  const { db } = deps;

  r.read('/tenants/:tenantId/apps/:appId/users', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    const q = parse(usersQuery, req.query, 'query');
    return searchUsers(db, ctx.tenantId, app.id, { search: q.q, mode: q.mode, cursor: q.cursor, limit: q.limit });
  });

  r.read('/tenants/:tenantId/apps/:appId/events', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    const q = parse(eventsQuery, req.query, 'query');
    return listEvents(db, ctx.tenantId, app.id, {
      ...q,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    });
  });

  r.read('/tenants/:tenantId/apps/:appId/origins', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    return { data: await recentOrigins(db, ctx.tenantId, app.id) };
  });

  r.read('/tenants/:tenantId/apps/:appId/stats/daily', async (req, _res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    const q = parse(statsQuery, req.query, 'query');
    return { data: await dailyStats(db, ctx.tenantId, app.id, q.days, q.mode) };
  });

  r.read('/tenants/:tenantId/apps/:appId/events/stream', async (req, res, ctx) => {
    const app = await getTenantApp(db, ctx.tenantId, idParam(req, 'appId', 'app'));
    deps.streams.open(res, liveLogins(db, ctx.tenantId, app.id), () => stillMember(db, ctx.tokenHash, ctx.tenantId, app.id));
    return undefined;
  });
}
