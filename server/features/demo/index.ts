import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { and, eq, isNull, notExists } from 'drizzle-orm';
import express, { Router } from 'express';
import type { Core, Feature } from '../../core';
import { apiKeys, apps as appsTable, memberships, tenants } from '../../db/schema/index';
import type { AppsStore } from '../apps/store';

const WIDGET_FILE = fileURLToPath(new URL('../../../dist/widget/widget.js', import.meta.url));
const PUBLIC_DIR = fileURLToPath(new URL('./public', import.meta.url));
const DEMO_TENANT = 'Demo';
const DEMO_APP = 'Demo shop';

/**
 * `/widget.js` for every site, and in development the demo page at `/` with a sandbox app
 * made on first start, so `npm start` shows a working login with no WeChat credentials.
 */
export function createDemoFeature(core: Core, deps: { apps: AppsStore }): { feature: Feature } {
  const r = Router();
  const demoEnabled = core.config.env !== 'production';
  let demoKey: Promise<string> | undefined;

  r.get('/widget.js', (_req, res) => {
    if (!existsSync(WIDGET_FILE)) {
      res.status(503).type('text/javascript').send('console.error("wechat-scan-login: widget.js is not built; run npm run build");');
      return;
    }
    // Tenant pages load this cross-origin as a module script, which needs CORS.
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('text/javascript').send(readFileSync(WIDGET_FILE));
  });

  // Browsers ask for it on every page; an empty answer beats a 404 in the console.
  r.get('/favicon.ico', (_req, res) => void res.status(204).end());

  if (demoEnabled) {
    r.get('/', async (_req, res) => {
      const key = await (demoKey ??= ensureDemoApp(core, deps.apps));
      const html = readFileSync(`${PUBLIC_DIR}/index.html`, 'utf8').replace('__SITE_KEY__', key);
      res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'");
      res.type('html').send(html);
    });
    r.use('/demo', express.static(PUBLIC_DIR, { index: false, maxAge: 0 }));
  }

  return {
    feature: {
      name: 'demo',
      router: r,
      async start() {
        // Made eagerly only for a person running `npm start`; tests get it on the first visit to `/`.
        if (core.config.env === 'development' && core.config.role !== 'worker') {
          demoKey = ensureDemoApp(core, deps.apps);
          await demoKey;
        }
      },
    },
  };
}

/** The demo app's test publishable key, creating tenant and app the first time. */
async function ensureDemoApp(core: Core, apps: AppsStore): Promise<string> {
  const origin = new URL(core.config.publicUrl).origin;
  const [found] = await core.db
    .select({ key: apiKeys.plain, appId: appsTable.id, origins: appsTable.allowedOrigins })
    .from(appsTable)
    .innerJoin(tenants, eq(tenants.id, appsTable.tenantId))
    .innerJoin(apiKeys, and(eq(apiKeys.appId, appsTable.id), eq(apiKeys.kind, 'publishable'), eq(apiKeys.mode, 'test'), isNull(apiKeys.revokedAt)))
    // Only the tenant this code made (nobody is a member of it): anyone can sign up an
    // organisation called "Demo" with a "Demo shop" app, and the demo page must not serve its key.
    .where(and(eq(tenants.name, DEMO_TENANT), eq(appsTable.name, DEMO_APP),
      notExists(core.db.select({ one: memberships.tenantId }).from(memberships).where(eq(memberships.tenantId, tenants.id)))))
    .limit(1);
  if (found?.key) {
    // PUBLIC_URL may have changed since the app was made (another port, a LAN address for a phone).
    if (!found.origins.includes(origin)) {
      await core.db.update(appsTable).set({ allowedOrigins: [...found.origins, origin] }).where(eq(appsTable.id, found.appId));
      apps.invalidate(found.appId);
    }
    return found.key;
  }
  const tenantId = await apps.ensureDefaultTenant(DEMO_TENANT);
  const created = await apps.createApp({ tenantId, name: DEMO_APP, allowedOrigins: [origin] });
  core.logger.info({ appId: created.app.id }, 'created the demo app (sandbox mode)');
  return created.keys.test.publishable;
}
