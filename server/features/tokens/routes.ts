import { Router, type Response } from 'express';
import { verifyTokenBody } from '../../../contract/tokens.js';
import { ApiError } from '../../lib/errors';
import { jsonBody, parse } from '../../lib/http';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { AppRecord, AppsStore } from '../apps/store';
import type { SigningKeyStore } from './signing-keys';
import type { TokenVerifier } from './verifier';

const APP_ID = /^app_[A-Za-z0-9]{1,64}$/;
/** Short enough that a rotated-in key is seen soon; verifiers refetch on an unknown kid anyway. */
const PUBLIC_MAX_AGE = 300;

/**
 * The JWKS is a public document any tenant backend (or browser) may fetch. The issuer's
 * discovery document is the OpenID Provider's (features/oidc), which points here.
 */
function publicHeaders(res: Response): void {
  res.setHeader('Cache-Control', `public, max-age=${PUBLIC_MAX_AGE}`);
  res.setHeader('Access-Control-Allow-Origin', '*');
}

export function tokensRouter(deps: {
  apps: AppsStore;
  keys: SigningKeyStore;
  verifier: TokenVerifier;
}): Router {
  const router = Router();

  async function appFromPath(appId: string): Promise<AppRecord> {
    const app = APP_ID.test(appId) ? await deps.apps.getApp(appId) : null;
    if (!app) throw new ApiError('not_found', 'No such app');
    return app;
  }

  router.get('/apps/:appId/.well-known/jwks.json', async (req, res) => {
    const app = await appFromPath(req.params.appId);
    // An app that never signed yet still publishes the key it will sign with.
    await deps.keys.activeKey(app);
    const keys = await deps.keys.publishedKeys(app.id);
    publicHeaders(res);
    res.json({ keys });
  });

  router.post('/v1/tokens/verify', requireSecretKey(deps.apps), jsonBody('16kb'), async (req, res) => {
    const { app, mode } = secretKeyAuth(res);
    const { token } = parse(verifyTokenBody, req.body);
    const claims = await deps.verifier.verifyOnce(app, mode, token);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ valid: true, claims });
  });

  return router;
}
