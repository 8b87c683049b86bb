import type { Express } from 'express';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config';
import type { Core, Feature } from './core';
import { createHttpApp } from './app';
import { openDatabase } from './db/client';
import { errorBody } from './lib/errors';
import { newId } from './lib/ids';
import { createJobs } from './lib/jobs';
import { createLogger, type Logger } from './lib/logger';
import { createMetrics } from './lib/metrics';
import { connectRedis, RedisUnavailableError } from './lib/redis';
import { createAppsStore } from './features/apps/store';
import { createConsoleFeature } from './features/console/index';
import { createMailFeature } from './features/mail/index';
import { createAuditFeature } from './features/audit/index';
import { configuredLimits, createWebhooksFeature, type WebhooksTuning } from './features/webhooks/index';
import { createTokensFeature } from './features/tokens/index';
import { createPhoneService, createPhoneStore, phoneClaims, phoneInWebhooks, phoneSandboxRoutes } from './features/phone/index';
import { createUsersFeature } from './features/users/index';
import { createDocsFeature } from './features/docs/index';
import { createWechatFeature } from './features/wechat/index';
import { createSessionsFeature } from './features/sessions/index';
import { createSandboxFeature } from './features/sandbox/index';
import { createCodesFeature, createLinkCodes } from './features/codes/index';
import { createProfileFeature } from './features/profile/index';
import { createDemoFeature } from './features/demo/index';
import { createUsageFeature } from './features/usage/index';
import { createOidcFeature, type OidcTuning } from './features/oidc/index';
import { billingLimits, createBillingFeature, type BillingTuning } from './features/billing/index';

export interface StartOptions {
  logger?: Logger;
  /** Postgres pool size per process. */
  dbPoolSize?: number;
  /** Webhook delivery tuning, e.g. a short retry schedule for tests and benchmarks. */
  webhooks?: WebhooksTuning;
  /** OpenID Provider tuning, e.g. a short code lifetime for tests. */
  oidc?: OidcTuning;
  /** Meter sender and Stripe timeouts, e.g. short ones for tests. */
  billing?: BillingTuning;
}

export interface RunningServer {
  core: Core;
  /** Base URL on loopback, e.g. http://127.0.0.1:54321 (tests use PORT=0). */
  url: string;
  port: number;
  http: Server | null;
  /** The Express app serving `http` (null for worker-only processes): its route table is the API. */
  app: Express | null;
  close(): Promise<void>;
}

/** Builds the infrastructure once; features get only what they need from it. */
export async function buildCore(config: Config, opts: StartOptions = {}): Promise<Core> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: opts.dbPoolSize ?? config.databasePoolSize, statementTimeoutMs: config.databaseStatementTimeoutMs });
  let redis;
  try {
    redis = await connectRedis({ url: config.redisUrl, cluster: config.redisCluster, dataDir: config.dataDir, logger });
  } catch (err) {
    await database.close();
    throw err;
  }
  await database.migrate();
  const instanceId = newId('inst');
  const jobs = createJobs({
    prefix: config.redisPrefix,
    connection: redis.bullConnection(),
    runsWorkers: config.role !== 'api',
    logger,
    redis: redis.client,
    instanceId,
  });
  return {
    config,
    logger,
    database,
    db: database.db,
    redis,
    jobs,
    metrics: createMetrics(),
    localUrl: undefined,
    instanceId,
    key: (...parts) => [config.redisPrefix, ...parts].join(':'),
  };
}

/** Each feature, in mount order. Features reach each other only through what is passed here. */
async function buildFeatures(core: Core, opts: StartOptions = {}): Promise<Feature[]> {
  const features: Feature[] = [];
  const apps = createAppsStore(core);
  // Until billing knows each tenant's plan (free 3, pro 20), every app gets the configured cap.
  const phoneStore = createPhoneStore(core.db, core.config.masterKey);
  const phones = phoneClaims(phoneStore);
  const webhooks = createWebhooksFeature(core, { apps, limits: billingLimits(core, configuredLimits(core.config)), ...opts.webhooks, enrich: phoneInWebhooks(apps, phones) });
  features.push(webhooks.feature);
  const tokens = createTokensFeature(core, { apps, phones });
  const users = createUsersFeature(core, { apps, events: webhooks.outbox, phones: phoneStore });
  // Before tokens: the provider answers the issuer's discovery document.
  const oidc = createOidcFeature(core, { apps, keys: tokens.keys, users: users.users, tokens: tokens.verifier, issuer: tokens.signer.issuer, tuning: opts.oidc });
  features.push(oidc.feature);
  features.push(tokens.feature, users.feature);
  const sandbox = createSandboxFeature(core, { apps });
  const wechat = createWechatFeature(core, { apps, sandbox: sandbox.service });
  features.push(sandbox.feature, wechat.feature);
  const billing = createBillingFeature(core, { apps, outbox: webhooks.outbox, tuning: opts.billing });
  features.push(billing.feature);
  const activity = { statementCtes: billing.activity.statementCtes, refusal: billing.service.refusal };
  const sessions = createSessionsFeature(core, { apps, wechat: wechat.gateway, signer: tokens.signer, outbox: webhooks.outbox, activity, linkCodes: createLinkCodes(core), hostedPages: oidc.hostedPages,
    phone: createPhoneService({ apps, wechat: wechat.gateway, store: phoneStore }),
  });
  features.push(sessions.feature, { name: 'phone', router: phoneSandboxRoutes({ sessions: sessions.service, sandbox: sandbox.service }) });
  features.push(createCodesFeature(core, { apps, sessions: sessions.service, wechat: wechat.gateway }).feature);
  features.push(createProfileFeature(core, { sessions: sessions.service }).feature);
  features.push(createDemoFeature(core, { apps }).feature, createUsageFeature(core).feature, createDocsFeature(core).feature);
  const mail = createMailFeature(core);
  features.push(mail.feature, createAuditFeature(core, { apps }).feature);
  features.push(createConsoleFeature(core, { mailer: mail.mailer, apps, wechat: wechat.gateway, tokens: tokens.signer, webhooks: webhooks.service, users: users.rights, billing: billing.service, oidcClients: oidc.clients }).feature);
  return features;
}

export async function startServer(given: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const serveHttp = given.role !== 'worker';
  let config = given;
  let http: Server | null = null;
  let port = 0;
  // Requests that arrive while the rest is built (migrations can take a while) hear why they wait.
  let handle: RequestListener = (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify(errorBody('unavailable', 'The server is starting; try again shortly', '')));
  };
  if (serveHttp) {
    // Listening first: with PORT=0 and no PUBLIC_URL (tests) the public URL is the bound port,
    // and it is known before anything is built from the configuration.
    http = createServer((req, res) => handle(req, res));
    await new Promise<void>((ok, fail) => {
      http!.once('error', fail);
      http!.listen(config.port, ok);
    });
    port = (http.address() as AddressInfo).port;
    if (!config.publicUrlExplicit && config.port === 0) config = { ...config, publicUrl: `http://127.0.0.1:${port}` };
  }
  let core: Core;
  let features: Feature[];
  try {
    core = await buildCore(config, opts);
    features = await buildFeatures(core, opts);
  } catch (err) {
    http?.close();
    throw err;
  }
  if (http) core.localUrl = `http://127.0.0.1:${port}`;
  for (const f of features) await f.start?.();
  // Served only once every feature has started: a socket accepted before this instance is
  // subscribed to its event channel would miss its browser's events until a resync pass.
  let app: Express | null = null;
  if (http) {
    handle = app = createHttpApp(core, features);
    http.on('upgrade', (req, socket, head) => {
      for (const f of features) if (f.upgrade?.(req, socket, head)) return;
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
  }
  core.logger.info({ port, role: config.role, db: core.database.kind, instance: core.instanceId }, 'wechat-scan-login started');

  let closing: Promise<void> | undefined;
  return {
    core,
    url: `http://127.0.0.1:${port}`,
    port,
    http,
    app,
    close() {
      closing ??= (async () => {
        if (http) {
          http.close();
          http.closeAllConnections();
        }
        for (const f of [...features].reverse()) await f.stop?.().catch((err) => core.logger.warn({ err }, `stopping ${f.name}`));
        await core.jobs.close();
        await core.redis.close();
        await core.database.close();
      })();
      return closing;
    },
  };
}

async function runFromCommandLine(): Promise<void> {
  const roleArg = process.argv.find((a) => a.startsWith('--role='))?.slice('--role='.length);
  let config: Config;
  try {
    config = loadConfig(roleArg ? { ...process.env, ROLE: roleArg } : process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`wechat-scan-login: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      console.error(`wechat-scan-login: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  // Plain lines a person can open, beside the JSON logs.
  if (server.http) {
    const u = config.publicUrl;
    console.log(`${config.env === 'production' ? '' : `Demo:          ${u}/\n`}Console:       ${u}/console/\nSandbox phone: ${u}/sandbox/phone?scene=… (the code and the demo's link open it)`);
  }
  const stop = async (signal: string) => {
    server.core.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await server.close();
    process.exit(0);
  };
  // Last resort: a promise someone forgot to handle, or a throw in a callback, is a bug to log,
  // not a reason to drop every socket and request this process holds.
  process.on('unhandledRejection', (err) => server.core.logger.error({ err }, 'unhandled promise rejection (a bug: kept serving)'));
  process.on('uncaughtException', (err) => server.core.logger.error({ err }, 'uncaught exception (a bug: kept serving)'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runFromCommandLine();
}
