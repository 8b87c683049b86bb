import express from 'express';
import type { Core, Feature } from '../../core';
import { mountActivityRoutes } from './activity/routes';
import { createLiveStreams } from './activity/stream';
import { mountAppRoutes } from './apps/routes';
import { mountCodeLinkRoutes } from './apps/code-link-routes';
import { createConsoleRouter } from './auth/guard';
import { createLoginLimiter } from './auth/limiter';
import { mountAuthRoutes } from './auth/routes';
import { createSecondFactorChallenges } from './auth/challenges';
import { mountAuditConsoleRoutes } from './audit/routes';
import type { ConsolePorts } from './ports';
import { mountKeyRoutes } from './keys/routes';
import { consoleStatic } from './static';
import { mountTeamRoutes } from './team/routes';
import { mountWebhookRoutes } from './webhooks/routes';
import { mountUserRightsRoutes } from './users/routes';
import { mountOidcConsoleRoutes } from './oidc/routes';
import { mountBillingRoutes } from './billing/routes';

export type { ConsolePorts } from './ports';

/**
 * The tenant console: its API under /console/api (cookie sessions, CSRF, tenant + role
 * scoping on every route) and the built SPA at /console/. `apiRouter` is exposed so a test
 * can walk every route it declares.
 */
export function createConsoleFeature(core: Core, deps: ConsolePorts): { feature: Feature; apiRouter: express.Router } {
  const publicUrl = () => core.config.publicUrl;
  const r = createConsoleRouter({ db: core.db, publicUrl });
  const streams = createLiveStreams({ logger: core.logger });

  mountAuthRoutes(r, {
    db: core.db,
    limiter: createLoginLimiter(core),
    secureCookies: () => publicUrl().startsWith('https://'),
    mailer: deps.mailer,
    publicUrl,
    masterKey: core.config.masterKey,
    challenges: createSecondFactorChallenges(core),
  });
  mountAuditConsoleRoutes(r, { db: core.db });
  mountTeamRoutes(r, { db: core.db, publicUrl });
  mountAppRoutes(r, { ...deps, db: core.db, masterKey: core.config.masterKey, logger: core.logger });
  mountCodeLinkRoutes(r, { db: core.db, publicUrl });
  mountKeyRoutes(r, { ...deps, db: core.db });
  mountActivityRoutes(r, { db: core.db, streams });
  mountWebhookRoutes(r, { db: core.db, webhooks: deps.webhooks, streams });
  mountUserRightsRoutes(r, { db: core.db, users: deps.users });
  mountOidcConsoleRoutes(r, { db: core.db, oidcClients: deps.oidcClients, publicUrl });
  mountBillingRoutes(r, { db: core.db, billing: deps.billing, publicUrl });

  const router = express.Router();
  router.use(r.router);
  router.use(consoleStatic());
  return {
    feature: {
      name: 'console',
      router,
      async stop() {
        streams.closeAll();
      },
    },
    apiRouter: r.router,
  };
}
