import { Queue, QueueEvents, Worker, type ConnectionOptions, type Processor, type WorkerOptions } from 'bullmq';
import type { RedisClient } from './redis';
import type { Logger } from './logger';
import { createPeriodic } from './periodic';

/** A worker process says it is alive this often; it counts as gone after HEARTBEAT_TTL_MS of silence. */
export const HEARTBEAT_EVERY_MS = 5_000;
export const HEARTBEAT_TTL_MS = 15_000;

// KEYS[1] = the heartbeat sorted set; ARGV[1] = this process's id. Scored by Redis's own clock, so
// hosts with skewed clocks still agree; members silent for a day are dropped.
const BEAT = `local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 86400000)
return now`;
// KEYS[1] = the heartbeat sorted set; ARGV[1] = the TTL in ms. How many workers beat within it.
const COUNT_ALIVE = `local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[1]), '+inf')`;

/**
 * One place that knows how queues are named and connected. Workers are only started where
 * the process role runs them (`all` or `worker`); the API role only enqueues.
 */
export interface Jobs {
  readonly runsWorkers: boolean;
  queue(name: string): Queue;
  events(name: string): QueueEvents;
  worker(name: string, processor: Processor, opts?: Partial<WorkerOptions>): Worker | null;
  /**
   * How many worker processes beat within the last HEARTBEAT_TTL_MS (this one included). An
   * API-only process asks before it waits for a job, so with no worker it fails fast.
   */
  workersAlive(): Promise<number>;
  close(): Promise<void>;
}

export interface JobsOptions {
  prefix: string;
  /** Options for one Redis, or a Cluster client (BullMQ duplicates it for blocking commands). */
  connection: ConnectionOptions;
  runsWorkers: boolean;
  logger: Logger;
  /** Commands (the heartbeat); BullMQ opens its own connections from `connection`. */
  redis: RedisClient;
  /** This process, as named in the heartbeat. */
  instanceId: string;
}

export function createJobs(opts: JobsOptions): Jobs {
  // Hash-tagged so every key of every queue lands in one Redis Cluster slot, as BullMQ's cluster
  // setup asks. One tag for all queues, not one per queue: the worker heartbeat and the
  // queues are few keys with little traffic next to the sessions, which spread over every slot.
  const prefix = `{${opts.prefix}}`;
  const heartbeatKey = `${prefix}:workers`;
  const queues = new Map<string, Queue>();
  const events = new Map<string, QueueEvents>();
  const workers: Worker[] = [];
  const heartbeat = createPeriodic(
    async () => {
      await opts.redis.eval(BEAT, 1, heartbeatKey, opts.instanceId);
    },
    HEARTBEAT_EVERY_MS,
    (err) => opts.logger.warn({ err }, 'worker heartbeat failed'),
  );
  return {
    runsWorkers: opts.runsWorkers,
    queue(name) {
      let q = queues.get(name);
      if (!q) {
        q = new Queue(name, { connection: opts.connection, prefix });
        q.on('error', (err) => opts.logger.warn({ err, queue: name }, 'queue error'));
        queues.set(name, q);
      }
      return q;
    },
    events(name) {
      let e = events.get(name);
      if (!e) {
        e = new QueueEvents(name, { connection: opts.connection, prefix });
        e.on('error', (err) => opts.logger.warn({ err, queue: name }, 'queue events error'));
        events.set(name, e);
      }
      return e;
    },
    worker(name, processor, wopts) {
      if (!opts.runsWorkers) return null;
      const w = new Worker(name, processor, { connection: opts.connection, prefix, ...wopts });
      w.on('error', (err) => opts.logger.warn({ err, queue: name }, 'worker error'));
      if (workers.length === 0) heartbeat.start();
      workers.push(w);
      return w;
    },
    async workersAlive() {
      return Number(await opts.redis.eval(COUNT_ALIVE, 1, heartbeatKey, HEARTBEAT_TTL_MS));
    },
    async close() {
      // Silent first, and gone from the set: callers elsewhere stop counting on this process now.
      if (workers.length) {
        await heartbeat.stop();
        await within(1_000, opts.redis.zrem(heartbeatKey, opts.instanceId).catch(() => {}));
      }
      // Workers first, so in-flight jobs finish before their queues go away. Bounded: with
      // Redis gone, BullMQ's connections would wait for it forever.
      await within(10_000, Promise.allSettled(workers.map((w) => w.close())));
      await within(2_000, Promise.allSettled([...events.values(), ...queues.values()].map((q) => q.close())));
      for (const c of [...workers, ...events.values(), ...queues.values()]) void c.disconnect().catch(() => {});
    },
  };
}

function within(ms: number, p: Promise<unknown>): Promise<unknown> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise((ok) => (t = setTimeout(ok, ms)))]).finally(() => clearTimeout(t));
}
