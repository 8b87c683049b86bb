import express, { Router, type Request, type Response } from 'express';
import { errors as oidcErrors } from 'oidc-provider';
import type { Core } from '../../core';
import { ApiError } from '../../lib/errors';
import { jsonBody, parse } from '../../lib/http';
import { createIdempotency } from '../../lib/idempotency';
import type { KeyMode } from '../../lib/ids';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { AppRecord, AppsStore } from '../apps/store';
import type { HostedPagePass } from './pass';
import { AMR, INTERACTION_PATH, type ProviderRegistry } from './provider';
import { chooseLang, renderErrorPage, renderInteractionPage, type PageLang } from './page';
import { oidcClientInput } from '../../../contract/index.js';
import type { OidcClientService } from './service';
import type { ClientScope } from './store';

const APP_ID = /^app_[A-Za-z0-9]{1,64}$/;
const CLIENT_ID = /^cli_[A-Za-z0-9]{1,64}$/;
const UID = /^[A-Za-z0-9_-]{1,64}$/;
const DISCOVERY_MAX_AGE = 300;
const SUPPORTED_SCOPES = new Set(['openid', 'profile', 'phone']);

/** What the interaction needs of the element's token: verified for this app and mode, and spent once. */
export interface TokenCheck {
  verifyOnce(app: AppRecord, mode: KeyMode, token: string): Promise<{ sub: string }>;
}

export interface OidcRouteDeps {
  core: Core;
  apps: AppsStore;
  clients: OidcClientService;
  providers: ProviderRegistry;
  tokens: TokenCheck;
  hostedPages: HostedPagePass;
}

/** `POST/GET/DELETE /v1/oidc_clients`: the secret key decides the app and the mode. */
function clientsApi(router: Router, deps: OidcRouteDeps): void {
  const auth = requireSecretKey(deps.apps);
  const idempotency = createIdempotency(deps.core.db, deps.core.config.masterKey);
  const scopeOf = (res: Response): ClientScope => {
    const { app, mode } = secretKeyAuth(res);
    return { tenantId: app.tenantId, appId: app.id, mode };
  };
  const clientId = (req: Request) => {
    const id = req.params.id;
    if (typeof id !== 'string' || !CLIENT_ID.test(id)) throw new ApiError('not_found', 'No such OIDC client');
    return id;
  };
  const noStore = (res: Response) => res.setHeader('Cache-Control', 'no-store');

  router.post('/v1/oidc_clients', auth, jsonBody('16kb'), async (req, res) => {
    const input = parse(oidcClientInput, req.body ?? {});
    noStore(res);
    await idempotency.respond(req, res, scopeOf(res), 'oidc_clients.create', async () => ({ status: 201, body: await deps.clients.create(scopeOf(res), input) }));
  });
  router.get('/v1/oidc_clients', auth, async (_req, res) => {
    noStore(res);
    res.json({ data: await deps.clients.store.list(scopeOf(res)) });
  });
  router.get('/v1/oidc_clients/:id', auth, async (req, res) => {
    const client = await deps.clients.store.get(scopeOf(res), clientId(req));
    if (!client) throw new ApiError('not_found', 'No such OIDC client');
    noStore(res);
    res.json(client);
  });
  router.delete('/v1/oidc_clients/:id', auth, async (req, res) => {
    const id = clientId(req);
    if (!(await deps.clients.store.remove(scopeOf(res), id))) throw new ApiError('not_found', 'No such OIDC client');
    res.json({ client_id: id, deleted: true });
  });
}

/**
 * Each app's OpenID Provider under its issuer `{PUBLIC_URL}/apps/{appId}`: discovery and the
 * `/oauth2/*` endpoints go to the app's oidc-provider instance; the interaction (the hosted
 * page with the element, and the forms it posts) is ours.
 */
export function oidcRouter(deps: OidcRouteDeps): Router {
  const { core, providers } = deps;
  const router = Router();
  clientsApi(router, deps);

  async function appOf(req: Request): Promise<AppRecord> {
    const appId = req.params.appId;
    const app = typeof appId === 'string' && APP_ID.test(appId) ? await deps.apps.getApp(appId) : null;
    if (!app) throw new ApiError('not_found', 'No such app');
    return app;
  }

  /**
   * The issuer is built from PUBLIC_URL, so the provider's URLs and cookie security must be too,
   * whatever the socket was (plain http behind a TLS-terminating proxy). The client IP is
   * Express's view, which honours TRUST_PROXY.
   */
  function forwardFromPublicUrl(req: Request): void {
    const pub = new URL(core.config.publicUrl);
    req.headers['x-forwarded-proto'] = pub.protocol.slice(0, -1);
    req.headers['x-forwarded-host'] = pub.host;
    req.headers['x-forwarded-for'] = req.ip ?? '';
  }

  router.use('/apps/:appId', async (req, res, next) => {
    const path = req.path;
    const ours = path.startsWith(`${INTERACTION_PATH}/`);
    if (ours || !(path === '/.well-known/openid-configuration' || path.startsWith('/oauth2/'))) return next();
    const app = await appOf(req);
    forwardFromPublicUrl(req);
    // Same lifetime as the JWKS it points to (the provider already allows any origin for it).
    if (path === '/.well-known/openid-configuration') res.setHeader('Cache-Control', `public, max-age=${DISCOVERY_MAX_AGE}`);
    await (await providers.forApp(app)).handle(req, res);
  });

  const lang = (req: Request, uiLocales?: unknown): PageLang => chooseLang(uiLocales, (l) => req.acceptsLanguages(...l));

  function errorPage(res: Response, status: number, language: PageLang, detail: string) {
    res.status(status).setHeader('Cache-Control', 'no-store');
    res.type('html').send(renderErrorPage(language, detail));
  }

  /** The interaction of this request (by its cookie), which must be the one in the path. */
  async function interactionOf(req: Request, res: Response) {
    const app = await appOf(req);
    forwardFromPublicUrl(req);
    const { provider } = await providers.forApp(app);
    const uid = req.params.uid;
    try {
      const details = await provider.interactionDetails(req, res);
      if (typeof uid !== 'string' || !UID.test(uid) || details.uid !== uid) return { app, provider, details: null };
      const client = await deps.clients.store.findForApp(app.id, String(details.params.client_id));
      return { app, provider, details, client };
    } catch (err) {
      if (err instanceof oidcErrors.SessionNotFound) return { app, provider, details: null };
      // The adapter's word for a store that is down (see adapter.ts).
      if (err instanceof oidcErrors.OIDCProviderError && err.status === 503) throw new ApiError('unavailable', 'The login service is briefly unavailable; try again');
      throw err;
    }
  }

  const expired = {
    'zh-CN': '登录请求已过期或不存在。',
    en: 'This login request has expired or does not exist.',
  } as const;

  router.get(`/apps/:appId${INTERACTION_PATH}/:uid`, async (req, res) => {
    const { app, details, client } = await interactionOf(req, res);
    const language = lang(req, details?.params.ui_locales);
    if (!details || !client) return errorPage(res, 400, language, expired[language]);
    const siteKey = await deps.clients.store.publishableKey(app.id, client.mode);
    if (!siteKey) return errorPage(res, 409, language, `${app.displayName ?? app.name}: no ${client.mode}-mode publishable key`);
    const pub = new URL(core.config.publicUrl);
    const action = `${core.config.publicUrl}/apps/${app.id}${INTERACTION_PATH}/${details.uid}`;
    const page = renderInteractionPage({
      lang: language,
      appName: app.displayName ?? app.name,
      logoUrl: app.logoUrl,
      siteKey,
      widgetUrl: `${core.config.publicUrl}/widget.js`,
      loginAction: `${action}/login`,
      abortAction: `${action}/abort`,
      redirectOrigin: new URL(String(details.params.redirect_uri)).origin,
      socketOrigin: `${pub.protocol === 'https:' ? 'wss:' : 'ws:'}//${pub.host}`,
    });
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', page.csp);
    res.setHeader('X-Frame-Options', 'DENY');
    // Lets this page's element open its socket from our own origin, for this app and mode only.
    res.append('Set-Cookie', deps.hostedPages.issue(app.id, client.mode, pub.protocol === 'https:'));
    res.type('html').send(page.html);
  });

  const form = express.urlencoded({ extended: false, limit: '16kb' });

  router.post(`/apps/:appId${INTERACTION_PATH}/:uid/login`, form, async (req, res) => {
    const { app, provider, details, client } = await interactionOf(req, res);
    const language = lang(req, details?.params.ui_locales);
    if (!details || !client) return errorPage(res, 400, language, expired[language]);
    const token = typeof req.body?.token === 'string' ? req.body.token : '';
    let sub: string;
    try {
      // Checks the token is this app's, in the client's mode, and spends its jti: one login, one code.
      ({ sub } = await deps.tokens.verifyOnce(app, client.mode, token));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      // The relying party learns of the refusal the OAuth way, at its redirect URI.
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: `the login could not be verified (${err.code})` }, { mergeWithLastSubmission: false });
    }
    const grant = new provider.Grant({ accountId: sub, clientId: client.id });
    const requested = String(details.params.scope ?? '').split(' ').filter((s) => SUPPORTED_SCOPES.has(s));
    grant.addOIDCScope(requested.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: sub, amr: AMR }, consent: { grantId } }, { mergeWithLastSubmission: false });
  });

  router.post(`/apps/:appId${INTERACTION_PATH}/:uid/abort`, async (req, res) => {
    const { provider, details } = await interactionOf(req, res);
    const language = lang(req, details?.params.ui_locales);
    if (!details) return errorPage(res, 400, language, expired[language]);
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the visitor cancelled the login' }, { mergeWithLastSubmission: false });
  });

  return router;
}
