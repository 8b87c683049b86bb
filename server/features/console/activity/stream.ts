import type { Response } from 'express';
import type { Db } from '../../../db/client';
import type { Logger } from '../../../lib/logger';
import { recentEvents } from './store';

/**
 * Live activity by polling Postgres, not Redis pub/sub: login_events is the record of truth,
 * written by whichever instance took the login, so polling needs nothing from the login
 * path and can't miss an event a lost Redis message would. The cost is one indexed query
 * per open console tab every POLL_MS. Polling re-reads an overlap WINDOW and skips ids
 * already sent, because a row's created_at is its transaction's start and it may become
 * visible a little after later rows.
 */
const POLL_MS = 2_000;
const WINDOW_SECONDS = 30;
const HEARTBEAT_MS = 15_000;
/** A stream outlives the request that opened it: who may watch is asked again this often. */
const RECHECK_MS = 30_000;

export interface LiveStreams {
  /** `stillAllowed` is asked every RECHECK_MS: a signed-out or removed member stops receiving events. */
  open(res: Response, scope: { tenantId: string; appId: string }, stillAllowed: () => Promise<boolean>): void;
  closeAll(): void;
}

export function createLiveStreams(deps: { db: Db; logger: Logger }): LiveStreams {
  const open = new Set<() => void>();
  return {
    open(res, scope, stillAllowed) {
      res.status(200);
      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.setHeader('x-accel-buffering', 'no');
      res.flushHeaders();
      res.write('retry: 3000\n\n');

      const since = new Date();
      const sent = new Map<string, number>();
      let busy = false;
      const sendNew = async () => {
        if (busy) return;
        busy = true;
        try {
          const rows = await recentEvents(deps.db, scope.tenantId, scope.appId, since, WINDOW_SECONDS);
          for (const ev of rows) {
            if (sent.has(ev.id)) continue;
            sent.set(ev.id, ev.createdAt.getTime());
            res.write(`event: login\ndata: ${JSON.stringify(ev)}\n\n`);
          }
          const horizon = Date.now() - (WINDOW_SECONDS + 30) * 1000;
          for (const [id, at] of sent) if (at < horizon) sent.delete(id);
        } catch (err) {
          deps.logger.warn({ err }, 'console live stream poll failed');
        } finally {
          busy = false;
        }
      };
      let checkedAt = Date.now();
      const tick = async () => {
        if (Date.now() - checkedAt >= RECHECK_MS) {
          checkedAt = Date.now();
          if (!(await stillAllowed().catch(() => true))) return close();
        }
        await sendNew();
      };
      const poll = setInterval(() => void tick(), POLL_MS);
      const beat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
      const close = () => {
        clearInterval(poll);
        clearInterval(beat);
        open.delete(close);
        if (!res.writableEnded) res.end();
      };
      open.add(close);
      res.on('close', close);
    },
    closeAll() {
      for (const close of [...open]) close();
    },
  };
}
