/** The console API's answers (server/features/console ↔ console/src). */
import { z } from 'zod';
import { codeStyleSchema, envVersionSchema, modeSchema, phoneNumberSettingSchema, timestamp } from './common.js';
import { ROLES } from './constants.js';

export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export const tenantRefSchema = z.object({ id: z.string(), name: z.string(), plan: z.string(), role: roleSchema });
export type TenantRef = z.infer<typeof tenantRefSchema>;

export const meSchema = z.object({
  account: z.object({ id: z.string(), email: z.string(), name: z.string().nullable() }),
  tenants: z.array(tenantRefSchema),
  csrfToken: z.string(),
});
export type Me = z.infer<typeof meSchema>;

/** Sign-up's answer, the same whether or not the email already had an account; signing in follows. */
export const signUpAnswerSchema = z.object({ next: z.literal('signin'), message: z.string() });
export type SignUpAnswer = z.infer<typeof signUpAnswerSchema>;

/** What the console shows of an app: never the AppSecret, only whether one is set. */
export const appSchema = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string().nullable(),
  logoUrl: z.string().nullable(),
  wechatAppId: z.string().nullable(),
  hasWechatSecret: z.boolean(),
  liveReady: z.boolean(),
  allowedOrigins: z.array(z.string()),
  mpPage: z.string(),
  envVersion: envVersionSchema,
  checkPath: z.boolean(),
  sessionTtlSeconds: z.number().int(),
  tokenTtlSeconds: z.number().int(),
  urlLinkEnabled: z.boolean(),
  /** DESIGN §11: `link` codes are ordinary QR codes of {PUBLIC_URL}/q/{appId}/{sessionId}. */
  codeStyle: codeStyleSchema,
  /** Ask the visitor for their WeChat-verified phone number: WeChat charges the mini-program per successful use of the button. */
  phoneNumber: phoneNumberSettingSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
  /** Settings that will stop logins, in plain words (single-app reads and updates only). */
  advice: z.array(z.string()).optional(),
});
export type App = z.infer<typeof appSchema>;

/** GET …/apps/:appId/code-link: what a link-style app must set up in WeChat (DESIGN §11). */
export const codeLinkSetupSchema = z.object({
  codeStyle: codeStyleSchema,
  /** The exact rule to add in 扫普通链接二维码打开小程序; ends with `/` for sub-path matching. */
  rulePrefix: z.string(),
  page: z.string(),
  checkFile: z.object({ fileName: z.string(), content: z.string(), url: z.string() }).nullable(),
});
export type CodeLinkSetup = z.infer<typeof codeLinkSetupSchema>;

export const keyPairSchema = z.object({ publishable: z.string(), secret: z.string() });
export type KeyPair = z.infer<typeof keyPairSchema>;
export const createdAppSchema = z.object({ app: appSchema, keys: z.object({ test: keyPairSchema, live: keyPairSchema.optional() }) });
export type CreatedApp = z.infer<typeof createdAppSchema>;

export const apiKeySchema = z.object({
  id: z.string(),
  kind: z.enum(['publishable', 'secret']),
  mode: modeSchema,
  name: z.string().nullable(),
  /** Publishable keys only: they are public anyway. */
  key: z.string().nullable().optional(),
  displayPrefix: z.string(),
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
  createdAt: timestamp,
});
export type ApiKey = z.infer<typeof apiKeySchema>;

export const signingKeySchema = z.object({ kid: z.string(), alg: z.string(), createdAt: timestamp, retiredAt: timestamp.nullable(), publishUntil: timestamp.nullable() });
export type SigningKey = z.infer<typeof signingKeySchema>;

export const verifyFailureSchema = z.object({ errcode: z.number(), errmsg: z.string(), title: z.string(), advice: z.string(), ip: z.string().optional() });
export type VerifyFailure = z.infer<typeof verifyFailureSchema>;
export const verifyAnswerSchema = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), failure: verifyFailureSchema.optional() })),
  advice: z.array(z.string()),
});
export type VerifyAnswer = z.infer<typeof verifyAnswerSchema>;

export const EVENT_STATUSES = ['succeeded', 'cancelled', 'expired', 'failed'] as const;
export const eventStatusSchema = z.enum(EVENT_STATUSES);
export type EventStatus = z.infer<typeof eventStatusSchema>;
export const loginEventSchema = z.object({
  id: z.string(), mode: modeSchema, status: eventStatusSchema, userId: z.string().nullable(), openid: z.string().nullable(),
  origin: z.string().nullable(), browser: z.string().nullable(), os: z.string().nullable(), ip: z.string().nullable(),
  location: z.string().nullable(), errorCode: z.string().nullable(), createdAt: timestamp,
});
export type LoginEvent = z.infer<typeof loginEventSchema>;
export const dayStatsSchema = z.object({ day: z.string(), succeeded: z.number(), cancelled: z.number(), expired: z.number(), failed: z.number() });
export type DayStats = z.infer<typeof dayStatsSchema>;

export const memberSchema = z.object({ accountId: z.string(), email: z.string(), name: z.string().nullable(), role: roleSchema, joinedAt: timestamp });
export type Member = z.infer<typeof memberSchema>;
export const invitationSchema = z.object({ id: z.string(), role: roleSchema, expiresAt: timestamp, createdAt: timestamp, createdBy: z.string().nullable() });
export type Invitation = z.infer<typeof invitationSchema>;
/** What an invitation link offers, shown before the person accepts (POST /console/api/invitations/preview). */
export const invitationPreviewSchema = z.object({ tenant: z.object({ name: z.string() }), role: roleSchema, invitedBy: z.string().nullable(), expiresAt: timestamp });
export type InvitationPreview = z.infer<typeof invitationPreviewSchema>;
