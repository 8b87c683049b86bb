import express, { type Express } from 'express';
import type { Core, Feature } from './core';
import { requestDeadline } from './lib/deadline';
import { errorHandler, notFound, rejectMalformedUrl, requestId, strictTransportSecurity } from './lib/http';

/** A readiness probe answers within a second, whatever the stores do. */
const READY_CHECK_MS = 800;

function withinReadyBudget<T>(check: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error('no answer in time')), READY_CHECK_MS);
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

/** Requests that wait on purpose, each bounded by its own window. */
const WAITS_ON_PURPOSE = [/^\/v1\/sessions\/[^/]+\/events$/, /\/events\/stream$/];

/** The Express app: shared middleware, operations endpoints, then each feature's routes. */
export function createHttpApp(core: Core, features: Feature[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', core.config.trustProxy);
  app.use(requestId);
  app.use(strictTransportSecurity(() => core.config.publicUrl));
  app.use(rejectMalformedUrl);
  app.use(requestDeadline(core.config.requestDeadlineMs, WAITS_ON_PURPOSE));
  app.use((req, res, next) => {
    const end = core.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () => end({ route: req.route?.path ?? 'unmatched', status: String(res.statusCode) }));
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    // A store that hangs (Postgres unreachable waits for its connect timeout) is as down as one that refuses.
    const checks = await Promise.allSettled([withinReadyBudget(core.database.ping()), withinReadyBudget(core.redis.client.ping())]);
    const [pg, redis] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'down'));
    // An API-only instance can't log anyone in without a worker process (WeChat calls run there).
    const workers = core.jobs.runsWorkers || redis !== 'ok' ? undefined : await workersStatus(core);
    res.status(pg === 'ok' && redis === 'ok' && (workers ?? 'ok') === 'ok' ? 200 : 503).json({ postgres: pg, redis, ...(workers ? { workers } : {}) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(core.metrics.registry.contentType).send(await core.metrics.registry.metrics());
  });

  for (const f of features) if (f.router) app.use(f.router);

  app.use(notFound);
  app.use(errorHandler(core.logger));
  return app;
}

async function workersStatus(core: Core): Promise<'ok' | 'none' | 'down'> {
  try {
    return (await withinReadyBudget(core.jobs.workersAlive())) > 0 ? 'ok' : 'none';
  } catch {
    return 'down';
  }
}
