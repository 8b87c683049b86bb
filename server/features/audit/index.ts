import { Router } from 'express';
import { auditEventsQuery } from '../../../contract/audit.js';
import type { Core, Feature } from '../../core';
import { parse } from '../../lib/http';
import { createPeriodic } from '../../lib/periodic';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { AppsStore } from '../apps/store';
import { listAuditEvents, sweepAuditEvents } from './store';

export { audit, audited, auditAccount, consoleActor, type Actor } from './record';
export { auditCsv, listAuditEvents, type AuditEvent } from './store';

const SWEEP_EVERY_MS = 60 * 60_000;

/**
 * `GET /v1/audit_events` (a secret key reads its app's events: what the tenant's people, keys
 * and the operator did to that app) and the retention sweeper. The console's page and export
 * are console/audit/routes.ts; writers call record.ts inside their own transactions.
 */
export function createAuditFeature(core: Core, deps: { apps: AppsStore }): { feature: Feature } {
  const router = Router();
  router.get('/v1/audit_events', requireSecretKey(deps.apps), async (req, res) => {
    const { app } = secretKeyAuth(res);
    const q = parse(auditEventsQuery, req.query, 'query');
    const page = await listAuditEvents(core.db, { tenantId: app.tenantId, appId: app.id }, {}, q);
    res.setHeader('cache-control', 'no-store');
    // The API's shape leaves the before/after summary out: it is the console's detail view.
    res.json({ data: page.data.map(({ summary: _summary, ...e }) => e), ...(page.nextCursor ? { next: page.nextCursor } : {}) });
  });
  const sweeper = createPeriodic(async () => {
    const n = await sweepAuditEvents(core.db);
    if (n) core.logger.info({ deleted: n }, 'audit events past retention deleted');
  }, SWEEP_EVERY_MS, (err) => core.logger.warn({ err }, 'audit retention sweep failed; next run retries'));
  return {
    feature: {
      name: 'audit',
      router,
      async start() {
        if (core.jobs.runsWorkers) sweeper.start();
      },
      async stop() {
        await sweeper.stop();
      },
    },
  };
}
