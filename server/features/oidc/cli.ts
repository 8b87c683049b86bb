import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { createAppsStore } from '../apps/store';
import type { Config } from '../../config';
import { oidcClientInput } from '../../../contract/index.js';
import { createOidcClientService, type CreatedClient } from './service';
import { createOidcClientStore } from './store';

export const OIDC_CLI_USAGE = `  oidc-clients:create --app ID --redirect-uri URL [--redirect-uri URL …] [--name N] [--mode test|live] [--public]
                                            register an OpenID Connect client of an app (test mode unless --mode live);
                                            prints JSON with client_id and, unless --public, the client_secret (shown once)`;

const args = z.object({
  app: z.string({ error: '--app is required' }).regex(/^app_[A-Za-z0-9]{1,64}$/, '--app is an app id, app_…'),
  mode: z.enum(['test', 'live'], { error: '--mode is test or live' }).default('test'),
});

export type OidcClientArgs = ReturnType<typeof parseOidcClientArgs>;

/**
 * The command line of `oidc-clients:create`, checked before anything opens the database: the
 * same rules as POST /v1/oidc_clients. Throws an Error whose message names the flag.
 */
export function parseOidcClientArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      app: { type: 'string' }, 'redirect-uri': { type: 'string', multiple: true }, name: { type: 'string' },
      mode: { type: 'string' }, public: { type: 'boolean' },
    },
    strict: true,
  });
  const parsed = args.safeParse(values);
  if (!parsed.success) throw new Error(parsed.error.issues[0]!.message);
  const input = oidcClientInput.safeParse({
    name: values.name ?? 'OIDC client',
    redirect_uris: values['redirect-uri'] ?? [],
    token_endpoint_auth_method: values.public ? 'none' : 'client_secret_basic',
  });
  if (!input.success) throw new Error(`--${input.error.issues[0]!.path[0] === 'redirect_uris' ? 'redirect-uri' : 'name'}: ${input.error.issues[0]!.message}`);
  return { ...parsed.data, input: input.data };
}

/** `npm run cli -- oidc-clients:create …` once its arguments passed: registers the client. */
export async function createOidcClientFromCli(db: Db, config: Config, a: OidcClientArgs, issuer: (appId: string) => string): Promise<CreatedClient & { issuer: string }> {
  const app = await createAppsStore({ db, config }).getApp(a.app);
  if (!app) throw new Error(`no app ${a.app}`);
  const created = await createOidcClientService(createOidcClientStore(db)).create({ tenantId: app.tenantId, appId: app.id, mode: a.mode }, a.input);
  return { ...created, issuer: issuer(app.id) };
}
