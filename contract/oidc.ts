/** OpenID Connect clients of an app (DESIGN §8): registered with a secret key, per app and mode. */
import { z } from 'zod';
import { modeSchema, timestamp } from './common.js';

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export const clientAuthMethodSchema = z.enum(CLIENT_AUTH_METHODS);
export type ClientAuthMethod = z.infer<typeof clientAuthMethodSchema>;

export const clientInput = z.object({
  name: z.string().trim().min(1).max(100),
  redirect_uris: z.array(z.string().min(1).max(2048)).min(1).max(10),
  token_endpoint_auth_method: clientAuthMethodSchema.default('client_secret_basic'),
});
export type ClientInput = z.input<typeof clientInput>;

/** A client as the API and the console show it: never its secret, only a prefix to recognise it by. */
export const oidcClientSchema = z.object({
  client_id: z.string(),
  name: z.string(),
  mode: modeSchema,
  redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: clientAuthMethodSchema,
  client_secret_prefix: z.string().nullable(),
  created_at: timestamp,
});
export type OidcClientView = z.infer<typeof oidcClientSchema>;
/** Creation is the only answer with the secret (confidential clients only). */
export const createdOidcClientSchema = oidcClientSchema.extend({ client_secret: z.string().optional() });
export const deletedOidcClientSchema = z.object({ client_id: z.string(), deleted: z.literal(true) });
