import { createHmac } from 'node:crypto';
import Provider, { interactionPolicy, type Account, type KoaContextWithOIDC } from 'oidc-provider';
import type { Core } from '../../core';
import { safeEqual, sha256 } from '../../lib/crypto';
import type { KeyMode } from '../../lib/ids';
import type { AppRecord } from '../apps/store';
import type { ActiveKey } from '../tokens/index';
import { createAdapterFactory } from './adapter';
import { renderProviderError } from './page';
import type { StoredClient } from './store';

/** Paths under the issuer; DESIGN §8 fixes the first three. */
export const ROUTES = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  jwks: '/.well-known/jwks.json',
} as const;
export const INTERACTION_PATH = '/oauth2/interaction';
export const AMR = ['wechat_mp_scan'];

export interface OidcTuning {
  /** Lifetime of an authorization code (DESIGN §8: 60 s); tests shorten it to see expiry. */
  codeTtlSeconds?: number;
}

/** Lifetimes of everything else the provider keeps in Redis: one login's worth, no long SSO session. */
const TTL = { interaction: 600, session: 600, grant: 600, accessToken: 600, idToken: 3600 };
const MAX_PROVIDERS = 500;

export interface EndUser {
  id: string;
  openid: string;
  unionid: string | null;
  nickname: string | null;
  avatarUrl: string | null;
  /** Present when the visitor shared it (features/phone). */
  phoneNumber?: string;
}

export interface ProviderDeps {
  activeKey(app: AppRecord): Promise<ActiveKey>;
  findClient(appId: string, clientId: string): Promise<StoredClient | null>;
  findUser(app: AppRecord, mode: KeyMode, userId: string): Promise<EndUser | null>;
  issuer(appId: string): string;
}

/** The mode we store on every client's metadata (see clientMetadata). */
export function modeOfClient(client: { [k: string]: unknown } | undefined): KeyMode {
  // Extra metadata keeps its own name (oidc-provider camel-cases only the metadata it knows).
  const mode = client?.wsl_mode;
  if (mode !== 'test' && mode !== 'live') throw new Error('client without a mode');
  return mode;
}

/**
 * Every login through the provider needs a fresh scan: a provider session left from an
 * earlier login in the same browser never signs anyone in silently, so every OIDC login is
 * a real login session (usage, webhooks, Activity) like the element's.
 */
function policy() {
  const { Check, base } = interactionPolicy;
  const prompts = base();
  prompts.get('login')!.checks.add(new Check('fresh_scan', 'every authorization is confirmed on the phone', (ctx) =>
    ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT));
  return prompts;
}

function cookieKey(masterKey: Buffer, appId: string): string {
  return createHmac('sha256', masterKey).update(`oidc-cookies:${appId}`).digest('base64url');
}

export interface AppProvider {
  provider: Provider;
  /** The provider's request handler (its Koa callback), made once per instance. */
  handle: ReturnType<Provider['callback']>;
}

/**
 * One oidc-provider instance per app (its issuer is the app's), built on first use and kept
 * in a small LRU keyed by app, signing key and PUBLIC_URL, so a rotated key or a changed
 * app is picked up by building a fresh one. Instances hold no state of their own: all of it
 * is in Redis and Postgres, so any instance of the server can continue any flow.
 */
export function createProviderRegistry(core: Core, deps: ProviderDeps, tuning: OidcTuning = {}) {
  const cache = new Map<string, AppProvider>();

  function build(app: AppRecord, key: ActiveKey): Provider {
    const issuer = deps.issuer(app.id);
    const jwk = { ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg: 'ES256', use: 'sig' };
    const provider = new Provider(issuer, {
      adapter: createAdapterFactory(core, app.id, (id) => deps.findClient(app.id, id)),
      jwks: { keys: [jwk] },
      routes: ROUTES,
      scopes: ['openid', 'profile', 'phone'],
      // amr rides on the openid scope so every id_token carries it (DESIGN §8), as the element's tokens do.
      claims: { openid: ['sub', 'amr'], profile: ['name', 'picture', 'openid', 'unionid'], phone: ['phone_number', 'phone_number_verified'] },
      responseTypes: ['code'],
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'ES256', token_endpoint_auth_method: 'client_secret_basic' },
      enabledJWA: { idTokenSigningAlgValues: ['ES256'], userinfoSigningAlgValues: ['ES256'], requestObjectSigningAlgValues: ['ES256'] },
      extraClientMetadata: { properties: ['wsl_mode'] },
      allowOmittingSingleRegisteredRedirectUri: false,
      features: {
        devInteractions: { enabled: false },
        rpInitiatedLogout: { enabled: false },
        pushedAuthorizationRequests: { enabled: false },
        userinfo: { enabled: true },
      },
      pkce: { required: (_ctx: unknown, client: { clientAuthMethod: string }) => client.clientAuthMethod === 'none' },
      ttl: {
        AuthorizationCode: tuning.codeTtlSeconds ?? 60,
        AccessToken: TTL.accessToken,
        IdToken: TTL.idToken,
        Interaction: TTL.interaction,
        Session: TTL.session,
        Grant: TTL.grant,
      },
      cookies: {
        keys: [cookieKey(core.config.masterKey, app.id)],
        // Every app's provider shares our one origin: names of its own keep two apps' flows in
        // one browser from overwriting each other's cookies.
        names: { session: `wsl_op_${app.id}`, interaction: `wsl_op_int_${app.id}`, resume: `wsl_op_resume_${app.id}` },
        long: { httpOnly: true, sameSite: 'lax' },
        short: { httpOnly: true, sameSite: 'lax' },
      },
      interactions: {
        policy: policy(),
        url: (_ctx: unknown, interaction: { uid: string }) => `${issuer}${INTERACTION_PATH}/${interaction.uid}`,
      },
      // Browsers may call userinfo from a public client's own pages (its redirect URIs' origins).
      clientBasedCORS: (ctx: KoaContextWithOIDC, origin: string, client: { clientAuthMethod: string; redirectUris: string[] }) =>
        (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none') && client.redirectUris.some((u) => URL.parse(u)?.origin === origin),
      async findAccount(ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
        const user = await deps.findUser(app, modeOfClient(ctx.oidc.client), sub);
        if (!user) return undefined;
        return {
          accountId: user.id,
          claims: () => ({
            sub: user.id,
            openid: user.openid,
            ...(user.unionid ? { unionid: user.unionid } : {}),
            ...(user.nickname ? { name: user.nickname } : {}),
            ...(user.avatarUrl ? { picture: user.avatarUrl } : {}),
            // Only for apps that ask for it, as in the element's tokens; only numbers WeChat verified.
            ...(app.phoneNumber !== 'off' && user.phoneNumber ? { phone_number: user.phoneNumber, phone_number_verified: true } : {}),
          }),
        };
      },
      renderError: renderProviderError,
    });
    // Client secrets are stored as SHA-256 only (shown once at creation, like secret keys).
    provider.Client.prototype.compareClientSecret = function compare(actual: string) {
      const stored = this.clientSecret;
      return typeof stored === 'string' && typeof actual === 'string' && safeEqual(sha256(actual), stored);
    };
    // The issuer comes from PUBLIC_URL; routes.ts sets the forwarded headers from it, so URLs
    // and cookie security follow PUBLIC_URL whatever the socket was.
    provider.proxy = true;
    provider.on('server_error', (_ctx: unknown, err: unknown) => core.logger.error({ err, appId: app.id }, 'oidc provider error'));
    return provider;
  }

  return {
    async forApp(app: AppRecord): Promise<AppProvider> {
      const key = await deps.activeKey(app);
      const id = `${app.id}|${key.kid}|${deps.issuer(app.id)}`;
      let entry = cache.get(id);
      if (entry) {
        cache.delete(id);
      } else {
        const provider = build(app, key);
        entry = { provider, handle: provider.callback() };
        if (cache.size >= MAX_PROVIDERS) cache.delete(cache.keys().next().value!);
      }
      cache.set(id, entry);
      return entry;
    },
  };
}

export type ProviderRegistry = ReturnType<typeof createProviderRegistry>;
