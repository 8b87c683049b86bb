import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger';

/**
 * `failed` carries a plain-words reason (the code image could not be made); `refused` carries
 * an error code, a space and plain words (a scan refused by a plan's limit); the others carry nothing.
 */
export type SessionEvent = 'scanned' | 'confirmed' | 'cancelled' | 'expired' | 'failed' | 'refused';
type Listener = (event: SessionEvent, detail: string) => void;

/**
 * Cross-instance routing. Each instance subscribes to one channel of its own; a session
 * records which instance holds its browser (`holder`), and state changes are published to
 * that instance only. An event for a session held here skips Redis entirely.
 */
export interface SessionBus {
  listen(sessionId: string, fn: Listener): () => void;
  publish(holder: string | undefined, sessionId: string, event: SessionEvent, detail?: string): Promise<void>;
  /** How many sessions have a listener on this instance (metrics, tests). */
  size(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSessionBus(opts: {
  instanceId: string;
  channelOf: (instanceId: string) => string;
  publisher: Redis;
  subscriber: Redis;
  logger: Logger;
}): SessionBus {
  const listeners = new Map<string, Set<Listener>>();
  const own = opts.channelOf(opts.instanceId);

  function deliver(sessionId: string, event: SessionEvent, detail: string) {
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
      await opts.publisher.publish(opts.channelOf(holder), `${event} ${sessionId} ${detail}`);
    },
    size: () => listeners.size,
    async start() {
      opts.subscriber.on('message', (channel: string, message: string) => {
        if (channel !== own) return;
        const first = message.indexOf(' ');
        const second = message.indexOf(' ', first + 1);
        if (first < 0 || second < 0) return;
        deliver(message.slice(first + 1, second), message.slice(0, first) as SessionEvent, message.slice(second + 1));
      });
      await opts.subscriber.subscribe(own);
    },
    async stop() {
      listeners.clear();
      // Not awaited: with Redis gone it would never answer; closing the connection ends it anyway.
      void opts.subscriber.unsubscribe(own).catch(() => {});
    },
  };
}
