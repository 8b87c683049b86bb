import type { Config } from './config';
import type { Database, Db } from './db/client';
import type { Jobs } from './lib/jobs';
import type { Logger } from './lib/logger';
import type { Metrics } from './lib/metrics';
import type { RedisHandle } from './lib/redis';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Router } from 'express';

/** The shared infrastructure every feature is built from (one per process; tests build their own). */
export interface Core {
  config: Config;
  logger: Logger;
  database: Database;
  db: Db;
  redis: RedisHandle;
  jobs: Jobs;
  metrics: Metrics;
  /**
   * This process's own HTTP base on loopback (set once it listens; undefined for worker-only
   * processes). Read it at use time, not at build time.
   */
  localUrl: string | undefined;
  /** This process's id: the name of its Redis channel for events routed to its sockets. */
  instanceId: string;
  /** Redis key under this deployment's prefix. Pass `{tag}` parts to keep related keys in one slot. */
  key(...parts: string[]): string;
}

/** What a feature hands the composition root. Everything is optional: a feature may only run jobs. */
export interface Feature {
  name: string;
  /** Mounted at the root of the Express app, in the order features are listed. */
  router?: Router;
  /** WebSocket upgrades: return true when the request was this feature's. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Called once after the HTTP server listens (subscriptions, sweepers, workers). */
  start?(): Promise<void>;
  /** Called on shutdown before infrastructure closes; must not throw. */
  stop?(): Promise<void>;
}
