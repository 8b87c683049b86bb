import type { RedisClient } from '../../lib/redis';
import type { Logger } from '../../lib/logger';

/**
 * `failed` carries a plain-words reason (the code image could not be made); `refused` carries
 * an error code, a space and plain words (a scan refused by the site's plan, features/billing);
 * the others carry nothing. `vanished` is never published: a resync pass says it when Redis lost the session.
 */
export type SessionEvent = 'scanned' | 'confirmed' | 'cancelled' | 'expired' | 'failed' | 'refused' | 'vanished';
type Listener = (event: SessionEvent, detail: string) => void;

/** After a reconnect, listeners are told again this much later (the SUBSCRIBE has taken by then). */
const RESUBSCRIBED_AGAIN_MS = 1_000;

/** A PUBLISH nobody heard (the holder's subscriber is reconnecting) is tried once more this much later. */
const REPUBLISH_AFTER_MS = 1_000;

/**
 * Cross-instance routing. Each instance subscribes to one channel of its own; a session
 * records which instance holds its browser (`holder`), and state changes are published to
 * that instance only. An event for a session held here skips Redis entirely.
 *
 * On a Redis Cluster (`sharded`) the channel is a shard channel (SSUBSCRIBE/SPUBLISH): an event
 * travels only through the shard that owns the holder's channel, not to every node. On one Redis
 * it is a plain channel, which every Redis version has.
 *
 * Messages are hints, delivered at most once: the session in Redis is the truth. Whoever
 * listens re-reads it after the subscriber reconnects (`onResubscribed`) and on a slow timer
 * (resync.ts), so an event lost on the way still reaches the browser.
 */
export interface SessionBus {
  listen(sessionId: string, fn: Listener): () => void;
  publish(holder: string | undefined, sessionId: string, event: SessionEvent, detail?: string): Promise<void>;
  /** Hand an event to this instance's listeners (the resync pass, from what it read). */
  deliver(sessionId: string, event: SessionEvent, detail?: string): void;
  /** The sessions with a listener on this instance. */
  sessionIds(): string[];
  /** Called each time the subscriber is back after losing its connection. */
  onResubscribed(fn: () => void): void;
  /** How many sessions have a listener on this instance (metrics, tests). */
  size(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSessionBus(opts: {
  instanceId: string;
  channelOf: (instanceId: string) => string;
  publisher: RedisClient;
  subscriber: RedisClient;
  /** Shard channels (a Redis Cluster) instead of plain ones. */
  sharded: boolean;
  logger: Logger;
}): SessionBus {
  const listeners = new Map<string, Set<Listener>>();
  const resubscribed: Array<() => void> = [];
  const own = opts.channelOf(opts.instanceId);
  const retries = new Set<NodeJS.Timeout>();

  function deliver(sessionId: string, event: SessionEvent, detail = '') {
    const set = listeners.get(sessionId);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(event, detail);
      } catch (err) {
        opts.logger.error({ err, sessionId }, 'session listener failed');
      }
    }
  }

  async function send(channel: string, message: string): Promise<number> {
    // SPUBLISH answers how many subscribers of its shard heard it, as PUBLISH does of the whole server.
    return opts.sharded ? Number(await opts.publisher.spublish(channel, message)) : opts.publisher.publish(channel, message);
  }

  return {
    listen(sessionId, fn) {
      let set = listeners.get(sessionId);
      if (!set) listeners.set(sessionId, (set = new Set()));
      set.add(fn);
      return () => {
        set!.delete(fn);
        if (set!.size === 0 && listeners.get(sessionId) === set) listeners.delete(sessionId);
      };
    },
    async publish(holder, sessionId, event, detail = '') {
      if (!holder) return;
      if (holder === opts.instanceId) return deliver(sessionId, event, detail);
      const channel = opts.channelOf(holder);
      const message = `${event} ${sessionId} ${detail}`;
      if ((await send(channel, message)) > 0) return;
      // Nobody subscribed right now: the holder is reconnecting (its resync then reads the
      // state, unless it read it just before this change) or gone (its browser resumes elsewhere).
      const t = setTimeout(() => {
        retries.delete(t);
        send(channel, message).catch((err) => opts.logger.warn({ err, sessionId }, 'session event not republished'));
      }, REPUBLISH_AFTER_MS);
      t.unref();
      retries.add(t);
    },
    deliver,
    sessionIds: () => [...listeners.keys()],
    onResubscribed(fn) {
      resubscribed.push(fn);
    },
    size: () => listeners.size,
    async start() {
      opts.subscriber.on(opts.sharded ? 'smessage' : 'message', (channel: string, message: string) => {
        if (channel !== own) return;
        const first = message.indexOf(' ');
        const second = message.indexOf(' ', first + 1);
        if (first < 0 || second < 0) return;
        deliver(message.slice(first + 1, second), message.slice(0, first) as SessionEvent, message.slice(second + 1));
      });
      await (opts.sharded ? opts.subscriber.ssubscribe(own) : opts.subscriber.subscribe(own));
      // ioredis resubscribes by itself on reconnect, right after `ready` (no event says when the
      // SUBSCRIBE took): what was published while it was away is lost. Told at once, and again a
      // moment later for what was published while the SUBSCRIBE was on its way. A cluster's
      // shard subscribers resubscribe after a failover or a moved slot, then say
      // `subscribersReady`.
      const back = () => {
        const fire = () => {
          for (const fn of resubscribed) fn();
        };
        fire();
        const again = setTimeout(fire, RESUBSCRIBED_AGAIN_MS);
        again.unref();
      };
      opts.subscriber.on(opts.sharded ? 'subscribersReady' : 'ready', back);
    },
    async stop() {
      listeners.clear();
      for (const t of retries) clearTimeout(t);
      retries.clear();
      // Not awaited: with Redis gone it would never answer; closing the connection ends it anyway.
      void (opts.sharded ? opts.subscriber.sunsubscribe(own) : opts.subscriber.unsubscribe(own)).catch(() => {});
    },
  };
}
