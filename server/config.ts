import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable the server reads, with what it means. Parsed once at boot;
 * a bad value stops start-up with one line naming the variable and the fix.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development')
    .describe('production turns off dev conveniences: generated MASTER_KEY and the demo app'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000)
    .describe('HTTP and WebSocket port'),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional()
    .describe('the URL browsers and phones reach this server at; default http://localhost:PORT'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional()
    .describe('Postgres connection string; unset = embedded PGlite under DATA_DIR'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20)
    .describe('Postgres connections per process'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional()
    .describe('Redis connection string; unset = redis://127.0.0.1:6379, or a private redis-server when none answers'),
  REDIS_CLUSTER_NODES: z.string().regex(/^[^,:\s]+:\d{1,5}(,[^,:\s]+:\d{1,5})*$/, 'must be host:port,host:port,…').optional()
    .describe('Redis Cluster seed nodes (host:port,…), instead of REDIS_URL; the rest of the cluster is discovered from them'),
  REDIS_CLUSTER_PASSWORD: z.string().min(1).optional()
    .describe('password (AUTH) of every Redis Cluster node; only with REDIS_CLUSTER_NODES'),
  REDIS_CLUSTER_TLS: z.stringbool().default(false)
    .describe('connect to the Redis Cluster nodes over TLS (as rediss:// does for one Redis); only with REDIS_CLUSTER_NODES'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_:.-]{1,40}$/).default('wsl')
    .describe('prefix of every Redis key and BullMQ queue, so several deployments can share one Redis'),
  MASTER_KEY: z.string().optional()
    .describe('32 random bytes in base64; encrypts AppSecrets and signing keys at rest'),
  WECHAT_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.weixin.qq.com')
    .describe('WeChat API base for live-mode keys'),
  SANDBOX_WECHAT_API_BASE: z.url({ protocol: /^https?$/ }).optional()
    .describe('where test-mode keys reach the WeChat simulator; default this server\'s own /sandbox/wechat'),
  STRIPE_SECRET_KEY: z.string().startsWith('sk_').optional()
    .describe('Stripe secret key; set = billing on (plans, MAU metering, Checkout); unset = every tenant unlimited'),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional()
    .describe('signing secret of the Stripe webhook endpoint POST /v1/billing/stripe-webhook (required with STRIPE_SECRET_KEY)'),
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.stripe.com')
    .describe('where the Stripe SDK sends requests (a stand-in for tests and staging)'),
  STRIPE_PRICE_PRO: z.string().startsWith('price_').optional()
    .describe('price id of the Pro subscription (required with STRIPE_SECRET_KEY)'),
  STRIPE_PRICE_PRO_MAU: z.string().startsWith('price_').optional()
    .describe('price id of the metered MAU price added to Pro subscriptions'),
  STRIPE_METER_EVENT: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/).default('wsl_active_user')
    .describe('event name of the Stripe Billing Meter that counts monthly active users'),
  PLAN_FREE_MAU: z.coerce.number().int().min(0).default(500)
    .describe('live monthly active users a free tenant may have (billing on)'),
  DATA_DIR: z.string().default('.data').describe('where embedded PGlite, a private Redis and the dev MASTER_KEY live'),
  ROLE: z.enum(['all', 'api', 'worker']).default('all')
    .describe('all = API and workers in one process; api or worker to scale them apart'),
  WECHAT_CALLS: z.enum(['direct', 'queued']).default('direct')
    .describe('direct = each instance calls WeChat itself; queued = every WeChat call is a BullMQ job for a worker (pin WeChat\'s IP whitelist to the workers\' egress)'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('pino log level; logs are JSON lines on stdout with secrets redacted'),
  WEBHOOK_ALLOW_PRIVATE_URLS: z.stringbool().default(false)
    .describe('allow live-mode webhook URLs on private, loopback or link-local addresses (self-hosting, tests)'),
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(2).max(3650).default(30)
    .describe('days webhook messages and their attempts are kept (delivery log, replay); undelivered ones are kept until they finish'),
  WEBHOOK_MAX_ENDPOINTS: z.coerce.number().int().min(1).max(1000).default(20)
    .describe('webhook endpoints one app may have in each mode, unless its billing plan sets it (free 3, pro 20)'),
  WEBHOOK_TEST_SENDS_PER_MINUTE: z.coerce.number().int().min(1).max(1000).default(10)
    .describe('"send test event" calls one app may make per minute in each mode'),
  SESSION_RATE_LIMIT: z.coerce.number().int().min(1).default(120)
    .describe('login sessions one IP address may open per minute (WebSocket and polling together)'),
  CONFIRM_LEASE_MS: z.coerce.number().int().min(100).max(120_000).default(10_000)
    .describe('how long one confirm may hold a session before the phone\'s retry or the recovery pass finishes it in its place'),
  SESSION_RESYNC_MS: z.coerce.number().int().min(200).max(600_000).default(15_000)
    .describe('how often an instance re-reads the state of the sessions its browsers wait on (events are also pushed; this catches lost ones)'),
  FAULT_EXIT_AFTER_LOGIN_RECORD: z.stringbool().default(false)
    .describe('fault injection for tests and bench/faults.ts only: the process exits right after a confirm\'s Postgres write, before Redis hears of it'),
  URL_LINKS_PER_DAY: z.coerce.number().int().min(0).max(500_000).default(50_000)
    .describe("'Open in WeChat' URL Links one mini-program AppID may create per day (WeChat allows 500,000 with Schemes); 0 = none"),
  WECHAT_CODES_PER_MINUTE: z.coerce.number().int().min(1).max(5_000).default(5_000)
    .describe('mini-program codes one AppID may draw a minute, counted by us so WeChat never refuses (its own quota is 5,000)'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional()
    .describe('where console mail goes (smtp://host:port, smtps://user:pass@host:port); unset outside production = printed to the log and listed at /console/api/dev/mailbox'),
  MAIL_FROM: z.string().min(3).max(200).default('wechat-scan-login <no-reply@localhost>')
    .describe('the From of console mail (verification, password reset)'),
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(500).max(300_000).default(15_000)
    .describe('an HTTP request still unanswered after this gets 503 unavailable with Retry-After (the long-poll and the console event stream are spared)'),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000)
    .describe("Postgres statement_timeout for the server's queries (0 = none); migrations run without it"),
  TRUST_PROXY: z.string().default('loopback')
    .describe("Express 'trust proxy' setting, so client IPs are right behind a load balancer"),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  /** With PORT=0 and no PUBLIC_URL (tests), main.ts resolves it to the bound port before building anything. */
  readonly publicUrl: string;
  publicUrlExplicit: boolean;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  redisUrl: string | undefined;
  /** Set = Redis Cluster instead of redisUrl (never both). */
  redisCluster: RedisClusterConfig | undefined;
  redisPrefix: string;
  masterKey: Buffer;
  wechatApiBase: string;
  /** Unset = this process's own /sandbox/wechat (see Core.localUrl), or PUBLIC_URL's for a worker-only process. */
  sandboxWechatApiBase: string | undefined;
  /** Null = billing off (self-hosting): every tenant is unlimited and nothing talks to Stripe. */
  billing: BillingConfig | null;
  /** Live MAU of the free plan, read even when billing is off (`billing:status` reports it). */
  planFreeMau: number;
  dataDir: string;
  role: Env['ROLE'];
  wechatCalls: Env['WECHAT_CALLS'];
  logLevel: Env['LOG_LEVEL'];
  webhookAllowPrivateUrls: boolean;
  trustProxy: string;
  /** Null = no SMTP: messages are logged (and, outside production, kept in the dev mailbox). */
  smtpUrl: string | null;
  mailFrom: string;
  urlLinksPerDay: number;
  wechatCodesPerMinute: number;
  sessionRateLimit: number;
  confirmLeaseMs: number;
  sessionResyncMs: number;
  requestDeadlineMs: number;
  databaseStatementTimeoutMs: number;
  faultExitAfterLoginRecord: boolean;
  webhookRetentionDays: number;
  webhookMaxEndpoints: number;
  webhookTestSendsPerMinute: number;
}

export interface BillingConfig {
  secretKey: string;
  webhookSecret: string;
  apiBase: string;
  pricePro: string;
  priceProMau: string | undefined;
  meterEvent: string;
}

export class ConfigError extends Error {}

function billingConfig(e: Env): BillingConfig | null {
  if (!e.STRIPE_SECRET_KEY) return null;
  if (!e.STRIPE_WEBHOOK_SECRET) throw new ConfigError('STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set (the signing secret of the endpoint /v1/billing/stripe-webhook)');
  if (!e.STRIPE_PRICE_PRO) throw new ConfigError('STRIPE_PRICE_PRO is required when STRIPE_SECRET_KEY is set (the price id of the Pro subscription, price_…)');
  return {
    secretKey: e.STRIPE_SECRET_KEY,
    webhookSecret: e.STRIPE_WEBHOOK_SECRET,
    apiBase: e.STRIPE_API_BASE.replace(/\/+$/, ''),
    pricePro: e.STRIPE_PRICE_PRO,
    priceProMau: e.STRIPE_PRICE_PRO_MAU,
    meterEvent: e.STRIPE_METER_EVENT,
  };
}

function decodeMasterKey(value: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32) {
    throw new ConfigError(
      `MASTER_KEY must be 32 random bytes in base64 (got ${key.length} bytes); make one with: openssl rand -base64 32`,
    );
  }
  return key;
}

export interface RedisClusterConfig {
  nodes: Array<{ host: string; port: number }>;
  password: string | undefined;
  tls: boolean;
}

/** In development the key is generated once into DATA_DIR and reused, so encrypted data survives restarts. */
function devMasterKey(dataDir: string): Buffer {
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return decodeMasterKey(readFileSync(file, 'utf8').trim());
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600 });
  return key;
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const shape = envSchema.shape[name as keyof typeof envSchema.shape];
    const hint = shape?.description ? ` (${shape.description})` : '';
    throw new ConfigError(`${name}: ${issue.message}${hint}`);
  }
  const e = parsed.data;
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError('REDIS_URL and REDIS_CLUSTER_NODES are both set: set REDIS_URL for one Redis or REDIS_CLUSTER_NODES for a Redis Cluster, not both');
  }
  let masterKey: Buffer;
  if (e.MASTER_KEY) masterKey = decodeMasterKey(e.MASTER_KEY);
  else if (e.NODE_ENV === 'production') {
    throw new ConfigError('MASTER_KEY is required in production; make one with: openssl rand -base64 32');
  } else masterKey = devMasterKey(e.DATA_DIR);

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    publicUrlExplicit: Boolean(e.PUBLIC_URL),
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER_NODES
      ? {
          nodes: e.REDIS_CLUSTER_NODES.split(',').map((n) => {
            const at = n.lastIndexOf(':');
            return { host: n.slice(0, at), port: Number(n.slice(at + 1)) };
          }),
          password: e.REDIS_CLUSTER_PASSWORD,
          tls: e.REDIS_CLUSTER_TLS,
        }
      : undefined,
    redisPrefix: e.REDIS_PREFIX,
    masterKey,
    wechatApiBase: e.WECHAT_API_BASE.replace(/\/+$/, ''),
    sandboxWechatApiBase: e.SANDBOX_WECHAT_API_BASE?.replace(/\/+$/, ''),
    billing: billingConfig(e),
    planFreeMau: e.PLAN_FREE_MAU,
    dataDir: e.DATA_DIR,
    role: e.ROLE,
    wechatCalls: e.WECHAT_CALLS,
    logLevel: e.LOG_LEVEL,
    webhookAllowPrivateUrls: e.WEBHOOK_ALLOW_PRIVATE_URLS,
    trustProxy: e.TRUST_PROXY,
    smtpUrl: e.SMTP_URL ?? null,
    mailFrom: e.MAIL_FROM,
    urlLinksPerDay: e.URL_LINKS_PER_DAY,
    wechatCodesPerMinute: e.WECHAT_CODES_PER_MINUTE,
    sessionRateLimit: e.SESSION_RATE_LIMIT,
    confirmLeaseMs: e.CONFIRM_LEASE_MS,
    sessionResyncMs: e.SESSION_RESYNC_MS,
    requestDeadlineMs: e.REQUEST_DEADLINE_MS,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    faultExitAfterLoginRecord: e.FAULT_EXIT_AFTER_LOGIN_RECORD,
    webhookRetentionDays: e.WEBHOOK_RETENTION_DAYS,
    webhookMaxEndpoints: e.WEBHOOK_MAX_ENDPOINTS,
    webhookTestSendsPerMinute: e.WEBHOOK_TEST_SENDS_PER_MINUTE,
  };
}

/** The variables with their descriptions, for the README and `cli config`. */
export function describeConfig(): Array<{ name: string; description: string }> {
  return Object.entries(envSchema.shape).map(([name, s]) => ({ name, description: s.description ?? '' }));
}
