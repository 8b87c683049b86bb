import { sql } from 'drizzle-orm';
import type { Core, Feature } from '../../core';
import type { DbOrTx } from '../../db/client';
import { createPeriodic } from '../../lib/periodic';

const ROLLUP_EVERY_MS = 60_000;

/**
 * Usage (what billing counts) is derived from login_events, the record of truth, rather than
 * incremented inside each login: a per-app counter row updated by every confirm serialises all
 * of an app's logins on one row lock (measured in bench/RESULTS.md). The rollup recomputes the
 * recent days, so it is idempotent and any number of instances may run it.
 */
export async function rollUpUsage(db: DbOrTx, sinceDays = 2): Promise<void> {
  await db.execute(sql`
    insert into usage_counters (tenant_id, app_id, day, mode, logins)
    select tenant_id, app_id, (created_at at time zone 'UTC')::date, mode, count(*)::int
    from login_events
    where status = 'succeeded' and created_at >= (now() at time zone 'UTC')::date - ${sinceDays}::int
    group by tenant_id, app_id, (created_at at time zone 'UTC')::date, mode
    on conflict (app_id, day, mode) do update set logins = excluded.logins`);
}

export function createUsageFeature(core: Core): { feature: Feature } {
  const rollup = createPeriodic(() => rollUpUsage(core.db), ROLLUP_EVERY_MS, (err) => core.logger.warn({ err }, 'usage rollup failed; next run retries'));
  return {
    feature: {
      name: 'usage',
      async start() {
        if (core.jobs.runsWorkers) rollup.start();
      },
      stop: () => rollup.stop(),
    },
  };
}
