import type { Logger } from '../../lib/logger';
import { createPeriodic } from '../../lib/periodic';
import type { SessionBus, SessionEvent } from './bus';
import type { SessionState, SessionStore } from './store';

/** What a waiting listener needs to hear for a session found in this state (null: nothing new). */
const HINT: Record<SessionState, SessionEvent | null> = {
  pending: null,
  scanned: 'scanned',
  confirming: null,
  confirmed: 'confirmed',
  // Handed to another socket of the same secret: this one's attach says the session is finished.
  consumed: 'confirmed',
  cancelled: 'cancelled',
  expired: 'expired',
};

/** Sessions read per round trip. */
const BATCH = 500;
/** After a reconnect the command connection may be a moment behind the subscriber. */
const RECONNECT_TRIES = 10;
const RECONNECT_RETRY_MS = 500;

/**
 * Pub/sub is a hint; this makes delivery at-least-once. A pass reads the state of every
 * session this instance's browsers wait on and hands each listener the event its state means
 * (listeners ignore what they have already shown). Runs after the bus's subscriber comes back
 * (events published meanwhile were lost; a session Redis lost entirely is `vanished`) and on a
 * slow timer (a PUBLISH lost in between).
 */
export function createResync(deps: { bus: SessionBus; store: SessionStore; intervalMs: number; logger: Logger }) {
  const { bus, store, logger } = deps;
  let stopped = false;

  async function pass(): Promise<void> {
    const ids = bus.sessionIds();
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const states = await store.states(batch);
      batch.forEach((id, j) => {
        const state = states[j];
        const event = state === null || state === undefined ? 'vanished' : HINT[state];
        if (event) bus.deliver(id, event);
      });
    }
  }

  async function afterReconnect(): Promise<void> {
    for (let attempt = 1; attempt <= RECONNECT_TRIES && !stopped; attempt++) {
      try {
        return await pass();
      } catch (err) {
        if (attempt === RECONNECT_TRIES) logger.warn({ err }, 'resync after reconnect failed; the periodic pass retries');
        await new Promise((r) => setTimeout(r, RECONNECT_RETRY_MS));
      }
    }
  }

  const periodic = createPeriodic(pass, deps.intervalMs, (err) => logger.warn({ err }, 'session resync pass failed; the next one retries'));
  bus.onResubscribed(() => void afterReconnect());

  return {
    pass,
    start: () => periodic.start(),
    async stop() {
      stopped = true;
      await periodic.stop();
    },
  };
}
