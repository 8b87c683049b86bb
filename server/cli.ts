import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { phoneNumberSettingSchema } from '../contract/common.js';
import { ConfigError, describeConfig, loadConfig } from './config';
import { openDatabase } from './db/client';
import { CODE_STYLES } from '../contract/constants.js';
import { apps } from './db/schema/index';
import { createAppsStore } from './features/apps/store';
import { originsSchema } from './features/apps/origins';
import { createOidcClientFromCli, OIDC_CLI_USAGE, parseOidcClientArgs } from './features/oidc/cli';
import { monthOf, planInForce, PLANS } from './features/billing/plans';
import { createBillingStore } from './features/billing/store';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  migrate                                   apply database migrations (safe to run from several hosts at once)
  apps:create --name N --origin URL [--origin URL …] [--appid A --secret S] [--tenant NAME] [--code-style wxacode|link]
                                            create an app; prints JSON with its id and keys
                                            (test keys always; live keys when WeChat credentials are given)
  apps:update --app ID [--code-style wxacode|link] [--phone-number off|optional|required]
                                            --code-style: how the app's codes are drawn (link: ordinary QR codes, no WeChat quota)
                                            --phone-number: whether the confirm page asks for the visitor's phone number
                                            (WeChat charges the mini-program per successful use of the button)
${OIDC_CLI_USAGE}
  tenants:plan --tenant ID --plan free|pro|custom [--mau N]
                                            set a tenant's plan by hand (custom: --mau is its live MAU limit, none = unlimited)
  billing:status --tenant ID                print {plan, status, activeUsers, limit} as JSON, and the meter events
                                            still to reach Stripe: {pending, oldestPending, lastError}
  config                                    list the environment variables the server reads`;

const codeStyle = z.enum(CODE_STYLES, { error: '--code-style is wxacode or link' });
const createArgs = z.object({
  name: z.string({ error: '--name is required' }).trim().min(1, '--name is required').max(100, '--name is at most 100 characters'),
  origin: z.array(z.string()).min(1, 'give at least one --origin, e.g. --origin https://www.example.com').pipe(originsSchema),
  appid: z.string().regex(/^wx[0-9a-f]{16}$/, '--appid looks like wx followed by 16 hex characters').optional(),
  secret: z.string().regex(/^[0-9a-f]{32}$/, '--secret is the 32-character AppSecret').optional(),
  tenant: z.string().trim().min(1).max(100).optional(),
  'code-style': codeStyle.optional(),
}).refine((a) => Boolean(a.appid) === Boolean(a.secret), '--appid and --secret go together');

const tenantArg = z.string({ error: '--tenant is required' }).regex(/^ten_[A-Za-z0-9]{8,40}$/, '--tenant is a tenant id (ten_…), as apps:create prints it');
const planArgs = z.object({
  tenant: tenantArg,
  plan: z.enum(PLANS, { error: '--plan is free, pro or custom' }).optional(),
  mau: z.coerce.number().int().min(0, '--mau is a whole number of monthly active users').optional(),
}).refine((a) => a.plan === 'custom' || a.mau === undefined, '--mau only applies to --plan custom');

const updateArgs = z.object({
  app: z.string({ error: '--app is required' }).regex(/^app_[A-Za-z0-9]{1,64}$/, '--app is an app id (app_…), as apps:create prints it'),
  'code-style': codeStyle.optional(),
  'phone-number': phoneNumberSettingSchema.optional(),
}).refine((a) => a['phone-number'] !== undefined || a['code-style'] !== undefined, 'give a setting to change, e.g. --code-style link or --phone-number optional');

/** Exit codes: 1 when the work failed, 2 when the command line itself was wrong (as getopt tools do). */
function fail(message: string, code: 1 | 2 = 1): never {
  console.error(`wechat-scan-login: ${message}`);
  process.exit(code);
}

function usageError(message: string): never {
  fail(`${message}\nRun \`npm run cli -- help\` for the commands and their options.`, 2);
}

/** Read and check apps:create's flags before anything touches the database. */
function parseCreateArgs(args: string[]): z.infer<typeof createArgs> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { name: { type: 'string' }, origin: { type: 'string', multiple: true }, appid: { type: 'string' }, secret: { type: 'string' }, tenant: { type: 'string' }, 'code-style': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  const parsed = createArgs.safeParse({ ...values, origin: values.origin ?? [] });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    usageError(issue.code === 'custom' && issue.path[0] === 'origin' ? `--origin ${issue.message}` : issue.message);
  }
  return parsed.data;
}

function parseOrUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
}

function parseUpdateArgs(args: string[]): z.infer<typeof updateArgs> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { app: { type: 'string' }, 'code-style': { type: 'string' }, 'phone-number': { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  const parsed = updateArgs.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    usageError(issue.path[0] === 'phone-number' ? '--phone-number is off, optional or required' : issue.message);
  }
  return parsed.data;
}

/** tenants:plan and billing:status flags; billing:status takes --tenant only. */
function parsePlanArgs(command: string, args: string[]): z.infer<typeof planArgs> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: command === 'tenants:plan' ? { tenant: { type: 'string' }, plan: { type: 'string' }, mau: { type: 'string' } } : { tenant: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError(err instanceof Error ? err.message : String(err));
  }
  const parsed = planArgs.safeParse(values);
  if (!parsed.success) usageError(parsed.error.issues[0]!.message);
  if (command === 'tenants:plan' && !parsed.data.plan) usageError('--plan is free, pro or custom');
  return parsed.data;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') return void console.log(USAGE);
  if (command === 'config') {
    for (const v of describeConfig()) console.log(`${v.name.padEnd(28)} ${v.description}`);
    return;
  }
  if (!['migrate', 'apps:create', 'apps:update', 'oidc-clients:create', 'tenants:plan', 'billing:status'].includes(command)) usageError(`unknown command '${command}'\n\n${USAGE}`);
  const create = command === 'apps:create' ? parseCreateArgs(rest) : null;
  const update = command === 'apps:update' ? parseUpdateArgs(rest) : null;
  const planning = command === 'tenants:plan' || command === 'billing:status' ? parsePlanArgs(command, rest) : null;
  const oidcClient = command === 'oidc-clients:create' ? parseOrUsageError(() => parseOidcClientArgs(rest)) : null;
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, max: 2 });
  try {
    await database.migrate();
    if (oidcClient) {
      const created = await createOidcClientFromCli(database.db, config, oidcClient, (appId) => `${config.publicUrl}/apps/${appId}`);
      console.log(JSON.stringify(created, null, 2));
      return;
    }
    if (update) {
      // Straight to the database: a running server's cached copy of the app catches up within seconds.
      const [row] = await database.db.update(apps).set({
        ...(update['code-style'] ? { codeStyle: update['code-style'] } : {}),
        ...(update['phone-number'] ? { phoneNumber: update['phone-number'] } : {}),
        updatedAt: new Date(),
      }).where(eq(apps.id, update.app)).returning({ id: apps.id, codeStyle: apps.codeStyle, phoneNumber: apps.phoneNumber });
      if (!row) fail(`no app ${update.app}`);
      console.log(JSON.stringify({ appId: row.id, codeStyle: row.codeStyle, phoneNumber: row.phoneNumber }, null, 2));
      return;
    }
    if (planning) {
      const store = createBillingStore(database.db);
      const tenantId = planning.tenant;
      // Straight to the database: a running server's cached quota catches up within seconds.
      if (planning.plan && !(await store.setPlan(tenantId, planning.plan, planning.mau ?? null))) fail(`no tenant ${tenantId}`);
      const row = (await store.tenant(tenantId)) ?? fail(`no tenant ${tenantId}`);
      const plan = planInForce(row, { billingOn: Boolean(config.billing), freeMau: config.planFreeMau });
      const activeUsers = await store.activeUsers(tenantId, monthOf(new Date()));
      const meterEvents = await store.meterBacklog(tenantId);
      console.log(JSON.stringify({ tenantId, plan: plan.plan, status: plan.status, activeUsers, limit: plan.limit, billing: config.billing ? 'on' : 'off', meterEvents }, null, 2));
      return;
    }
    if (!create) {
      console.log(JSON.stringify({ migrated: true, database: database.kind }));
      return;
    }
    const store = createAppsStore({ db: database.db, config });
    const tenantId = await store.ensureDefaultTenant(create.tenant);
    const { app, keys } = await store.createApp({
      tenantId, name: create.name, allowedOrigins: create.origin, codeStyle: create['code-style'],
      ...(create.appid ? { wechatAppId: create.appid, wechatSecret: create.secret } : {}),
    });
    console.log(JSON.stringify({ appId: app.id, tenantId, name: app.name, allowedOrigins: app.allowedOrigins, codeStyle: app.codeStyle, keys }, null, 2));
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).catch((err) => fail(err instanceof Error ? err.message : String(err)));
