import { Queue, QueueEvents, Worker, type Processor, type WorkerOptions, type RedisOptions } from 'bullmq';
import type { Logger } from './logger';

/**
 * One place that knows how queues are named and connected. Workers are only started where
 * the process role runs them (`all` or `worker`); the API role only enqueues.
 */
export interface Jobs {
  readonly runsWorkers: boolean;
  queue(name: string): Queue;
  events(name: string): QueueEvents;
  worker(name: string, processor: Processor, opts?: Partial<WorkerOptions>): Worker | null;
  close(): Promise<void>;
}

export function createJobs(opts: { prefix: string; connection: RedisOptions; runsWorkers: boolean; logger: Logger }): Jobs {
  // Hash-tagged so every key of a queue lands in one Redis Cluster slot.
  const prefix = `{${opts.prefix}}`;
  const queues = new Map<string, Queue>();
  const events = new Map<string, QueueEvents>();
  const workers: Worker[] = [];
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
      workers.push(w);
      return w;
    },
    async close() {
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
