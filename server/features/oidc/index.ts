import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import type { SigningKeyStore } from '../tokens/index';
import type { UsersStore } from '../users/index';
import { createHostedPagePass, type HostedPagePass } from './pass';
import { createProviderRegistry, type OidcTuning } from './provider';
import { oidcRouter, type TokenCheck } from './routes';
import { createOidcClientService, type OidcClientService } from './service';
import { createOidcClientStore } from './store';

export type { OidcTuning } from './provider';
export { escapeHtml } from './page';
export type { OidcClientService } from './service';
export type { ClientScope } from './store';

/**
 * Every app an OpenID Provider (DESIGN §8): clients per app and mode, and the authorization
 * code flow at the app's issuer, on oidc-provider, with the element as the login step.
 */
export function createOidcFeature(core: Core, deps: {
  apps: AppsStore;
  keys: Pick<SigningKeyStore, 'activeKey'>;
  users: Pick<UsersStore, 'get'>;
  tokens: TokenCheck;
  issuer(appId: string): string;
  tuning?: OidcTuning;
}): { feature: Feature; hostedPages: HostedPagePass; clients: OidcClientService } {
  const store = createOidcClientStore(core.db);
  const clients = createOidcClientService(store);
  const providers = createProviderRegistry(core, {
    activeKey: (app) => deps.keys.activeKey(app),
    findClient: (appId, id) => store.findForApp(appId, id),
    findUser: (app, mode, id) => deps.users.get({ tenantId: app.tenantId, appId: app.id, mode }, id),
    issuer: deps.issuer,
  }, deps.tuning);
  const hostedPages = createHostedPagePass(core.config.masterKey);
  return { feature: { name: 'oidc', router: oidcRouter({ core, apps: deps.apps, clients, providers, tokens: deps.tokens, hostedPages }) }, hostedPages, clients };
}
