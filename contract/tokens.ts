/** Login tokens as tenant backends verify them (DESIGN §4 "Tokens"). */
import { z } from 'zod';
import { modeSchema } from './common.js';

/** Exactly what a signed token carries. `mode` is our extension so a test token can't pass as live. */
export const tokenClaimsSchema = z.object({
  iss: z.string().describe('{PUBLIC_URL}/apps/{appId}'),
  aud: z.string().describe('the app id'),
  sub: z.string().min(1).describe('stable user id, usr_…'),
  openid: z.string().min(1),
  unionid: z.string().optional(),
  name: z.string().optional(),
  picture: z.string().optional(),
  /** OIDC standard claims, only for apps whose phoneNumber setting asks for it: E.164 (`+8613800138000`). */
  phone_number: z.string().optional(),
  phone_number_verified: z.boolean().optional(),
  amr: z.tuple([z.literal('wechat_mp_scan')]),
  mode: modeSchema,
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(1).max(128).describe('the login session id'),
});
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

export const verifyTokenBody = z.object({ token: z.string().min(1).max(8192) });
export const verifyTokenAnswer = z.object({ valid: z.literal(true), claims: tokenClaimsSchema });

export const jwksSchema = z.object({
  keys: z.array(z.object({ kty: z.string(), crv: z.string().optional(), x: z.string().optional(), y: z.string().optional(), kid: z.string(), alg: z.string().optional(), use: z.string().optional() }).loose()),
});

export const discoverySchema = z.object({
  issuer: z.string(),
  jwks_uri: z.string(),
}).loose();
