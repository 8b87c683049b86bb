/** OpenID Connect clients of an app's OpenID Provider (DESIGN §8), in OAuth's own snake_case. */
import { z } from 'zod';
import { modeSchema, timestamp } from './common.js';

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export const clientAuthMethodSchema = z.enum(CLIENT_AUTH_METHODS);
export type ClientAuthMethod = z.infer<typeof clientAuthMethodSchema>;

/** `POST /v1/oidc_clients` (and the console's form). `none` makes a public client, which must use PKCE. */
export const oidcClientInput = z.object({
  name: z.string().trim().min(1).max(100),
  redirect_uris: z.array(z.string().min(1).max(2048)).min(1).max(10).describe('matched exactly; https, or http on localhost/127.0.0.1 in test mode'),
  token_endpoint_auth_method: clientAuthMethodSchema.default('client_secret_basic'),
});

/** A client as listed: never its secret, only a prefix to recognise it by. */
export const oidcClientSchema = z.object({
  client_id: z.string().describe('cli_…'),
  name: z.string(),
  mode: modeSchema,
  redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: clientAuthMethodSchema,
  client_secret_prefix: z.string().nullable(),
  created_at: timestamp,
});
export type OidcClient = z.infer<typeof oidcClientSchema>;

/** The answer to a creation: the secret (confidential clients only) is in this answer and nowhere else. */
export const createdOidcClientSchema = oidcClientSchema.extend({ client_secret: z.string().optional().describe('ocs_…, shown once') });
export type CreatedOidcClient = z.infer<typeof createdOidcClientSchema>;
export const deletedOidcClientSchema = z.object({ client_id: z.string(), deleted: z.literal(true) });
