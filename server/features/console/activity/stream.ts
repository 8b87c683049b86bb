import type { Response } from 'express';
import type { Logger } from '../../../lib/logger';

/**
 * Live console pages (activity, the webhook delivery log) by polling Postgres, not Redis
 * pub/sub: the rows are the record of truth, written by whichever instance or worker made
 * the change, so polling needs nothing from those paths and can't miss an event a lost Redis
 * message would. The cost is one indexed query
 * per open console tab every POLL_MS. Polling re-reads an overlap WINDOW and skips ids
 * already sent, because a row's created_at is its transaction's start and it may become
 * visible a little after later rows.
 */
const POLL_MS = 2_000;
const WINDOW_SECONDS = 30;
const HEARTBEAT_MS = 15_000;
/** A stream outlives the request that opened it: who may watch is asked again this often. */
const RECHECK_MS = 30_000;

/** One server-sent event; `key` names it so an overlapping poll never sends it twice. */
export interface LiveEvent {
  key: string;
  at: Date;
  event: string;
  data: unknown;
}

/** What a stream polls: the events at or after `since` and within the last `windowSeconds`, oldest first. */
export type LiveSource = (since: Date, windowSeconds: number) => Promise<LiveEvent[]>;

export interface LiveStreams {
  /** `stillAllowed` is asked every RECHECK_MS: a signed-out or removed member stops receiving events. */
  open(res: Response, source: LiveSource, stillAllowed: () => Promise<boolean>): void;
  closeAll(): void;
}

export function createLiveStreams(deps: { logger: Logger }): LiveStreams {
  const open = new Set<() => void>();
  return {
    open(res, source, stillAllowed) {
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
          for (const ev of await source(since, WINDOW_SECONDS)) {
            if (sent.has(ev.key)) continue;
            sent.set(ev.key, ev.at.getTime());
            res.write(`event: ${ev.event}\ndata: ${JSON.stringify(ev.data)}\n\n`);
          }
          const horizon = Date.now() - (WINDOW_SECONDS + 30) * 1000;
          for (const [key, at] of sent) if (at < horizon) sent.delete(key);
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
