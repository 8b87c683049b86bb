import { sql } from 'drizzle-orm';
import type { Core } from '../../core';
import { rowsOf } from '../../db/client';
import { createPeriodic } from '../../lib/periodic';

/**
 * Webhook messages (and, by cascade, their deliveries and attempts) older than the retention
 * are deleted: at full speed a deployment writes a message or two per login, and nothing else
 * ever removes them. A message with a delivery still pending is kept until it finishes, so a
 * retention shorter than the retry schedule never drops an event before it was delivered.
 *
 * Runs on every worker process, in batches; `skip locked` lets several run at once without
 * waiting on each other.
 */
export function createRetention(core: Core, opts: { retentionMs: number; intervalMs: number; batch: number }) {
  /** One pass: deletes batches until a batch comes back short. Answers how many messages went. */
  async function purge(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - opts.retentionMs).toISOString();
    let total = 0;
    for (;;) {
      const deleted = rowsOf(await core.db.execute(sql`
        delete from webhook_messages where id in (
          select m.id from webhook_messages m
          where m.created_at < ${cutoff}::timestamptz
            and not exists (select 1 from webhook_deliveries d where d.message_id = m.id and d.status = 'pending')
          order by m.created_at
          limit ${opts.batch}
          for update skip locked)
        returning id`)).length;
      total += deleted;
      if (deleted < opts.batch) return total;
    }
  }

  const periodic = createPeriodic(
    async () => {
      const n = await purge();
      if (n) core.logger.info({ count: n }, 'deleted webhook messages past their retention');
    },
    opts.intervalMs,
    (err) => core.logger.warn({ err }, 'webhook retention pass failed'),
  );
  return { purge, ...periodic };
}
