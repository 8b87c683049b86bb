import { and, eq, gt, isNotNull, lte, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { webhookEndpoints } from '../../db/schema/index';

export interface BreakerTuning {
  /** Slot-holding failures in a row (any message) that open the breaker. */
  threshold: number;
  /** The first pause; every failed probe doubles it, up to `maxPauseMs`. */
  pauseMs: number;
  /**
   * Well below the schedule's second step (5 min): a pause only delays the retries of an
   * endpoint that hangs, and one probe per pause costs a single slot for one timeout.
   */
  maxPauseMs: number;
}

export const DEFAULT_BREAKER: BreakerTuning = { threshold: 5, pauseMs: 15_000, maxPauseMs: 60_000 };

/**
 * Does this failure hold a delivery slot? No answer at all (timeout, refused, reset) or an
 * answer that took most of the deadline does; a quick 4xx/5xx does not. Only these trip the
 * breaker: a receiver that refuses fast (mid-deploy, a flaky proxy) costs the worker nothing,
 * and pausing it would push its retries minutes past their schedule.
 */
export function holdsSlot(result: { statusCode?: number; durationMs: number }, timeoutMs: number): boolean {
  return result.statusCode === undefined || result.durationMs >= timeoutMs / 2;
}

/** May this attempt go now? A probe is the one attempt that tests a paused endpoint. */
export type Admission = { go: true; probe: boolean } | { go: false; until: Date };

type EndpointCircuit = Pick<typeof webhookEndpoints.$inferSelect, 'id' | 'circuit' | 'pausedUntil'>;

const ep = webhookEndpoints;

/**
 * A circuit breaker per endpoint, kept on its row so every worker process sees the same one.
 * It protects the worker's slots from endpoints that hang, so it counts only failures that
 * hold a slot (see `holdsSlot`); a quick answer of any status ends the streak.
 * Closed: attempts go. After `threshold` such failures in a row it opens: attempts due before
 * `pausedUntil` wait for it, spending none of their retries. When the pause is over the first
 * attempt to claim it becomes the probe (half-open; its claim lasts `probeLeaseMs`, so a probe
 * lost with its worker is retried); a success closes the breaker, a failure opens it again for
 * twice as long, a quick answer (even a refusal) closes it.
 */
export function createBreaker(db: Db, tuning: BreakerTuning, probeLeaseMs: number) {
  return {
    async admit(endpoint: EndpointCircuit, now: Date): Promise<Admission> {
      if (endpoint.circuit === 'closed') return { go: true, probe: false };
      if (endpoint.pausedUntil && endpoint.pausedUntil > now) return { go: false, until: endpoint.pausedUntil };
      const [claimed] = await db.update(ep)
        .set({ circuit: 'half_open', pausedUntil: new Date(now.getTime() + probeLeaseMs), updatedAt: now })
        .where(and(eq(ep.id, endpoint.id), ne(ep.circuit, 'closed'), or(sql`${ep.pausedUntil} is null`, lte(ep.pausedUntil, now))))
        .returning({ id: ep.id });
      if (claimed) return { go: true, probe: true };
      // Another attempt claimed the probe first, or it already closed the breaker.
      const [current] = await db.select({ circuit: ep.circuit, pausedUntil: ep.pausedUntil }).from(ep).where(eq(ep.id, endpoint.id));
      if (!current || current.circuit === 'closed' || !current.pausedUntil) return { go: true, probe: false };
      return { go: false, until: current.pausedUntil };
    },

    /** A 2xx: the streak is over and the breaker closes. */
    async succeeded(endpointId: string, at: Date): Promise<void> {
      await db.update(ep)
        .set({
          circuit: 'closed', pausedUntil: null, consecutiveFailures: 0, failingSince: null,
          updatedAt: sql`case when ${ep.circuit} <> 'closed' then ${at.toISOString()}::timestamptz else ${ep.updatedAt} end`,
        })
        // Most successes change nothing: no write then.
        .where(and(eq(ep.id, endpointId), or(ne(ep.circuit, 'closed'), gt(ep.consecutiveFailures, 0), isNotNull(ep.failingSince))));
    },

    /**
     * Any other answer, or none. `slowly`: it held its slot (see `holdsSlot`), so it is one more
     * in the streak and opens the breaker at the threshold; otherwise the endpoint answers, so the
     * streak ends and a probe closes the breaker. Either way it counts toward disabling.
     */
    async failed(endpointId: string, at: Date, slowly: boolean) {
      const time = sql`${at.toISOString()}::timestamptz`;
      if (!slowly) {
        const [row] = await db.update(ep)
          .set({
            consecutiveFailures: 0,
            failingSince: sql`coalesce(${ep.failingSince}, ${time})`,
            circuit: sql`case when ${ep.circuit} = 'half_open' then 'closed' else ${ep.circuit} end`,
            pausedUntil: sql`case when ${ep.circuit} = 'half_open' then null else ${ep.pausedUntil} end`,
            updatedAt: sql`case when ${ep.circuit} = 'half_open' then ${time} else ${ep.updatedAt} end`,
          })
          .where(eq(ep.id, endpointId))
          .returning({ failingSince: ep.failingSince, enabled: ep.enabled, circuit: ep.circuit, pausedUntil: ep.pausedUntil });
        return row;
      }
      const opens = sql`(${ep.consecutiveFailures} + 1 >= ${tuning.threshold} or ${ep.circuit} = 'half_open')`;
      // The pause doubles with every failure past the threshold (the exponent is capped so it can't overflow).
      const pause = sql`least(${tuning.pauseMs}::float8 * power(2, least(greatest(${ep.consecutiveFailures} + 1 - ${tuning.threshold}, 0), 30)), ${tuning.maxPauseMs}::float8) * interval '1 millisecond'`;
      const [row] = await db.update(ep)
        .set({
          consecutiveFailures: sql`${ep.consecutiveFailures} + 1`,
          failingSince: sql`coalesce(${ep.failingSince}, ${time})`,
          circuit: sql`case when ${opens} then 'open' else ${ep.circuit} end`,
          // Half-open, pausedUntil is the probe's claim, not a pause to extend.
          pausedUntil: sql`case when ${ep.circuit} = 'half_open' then ${time} + ${pause}
            when ${opens} then greatest(${ep.pausedUntil}, ${time} + ${pause}) else ${ep.pausedUntil} end`,
          updatedAt: sql`case when ${opens} then ${time} else ${ep.updatedAt} end`,
        })
        .where(eq(ep.id, endpointId))
        .returning({ failingSince: ep.failingSince, enabled: ep.enabled, circuit: ep.circuit, pausedUntil: ep.pausedUntil });
      return row;
    },
  };
}

export type Breaker = ReturnType<typeof createBreaker>;
