/** The end users of an app (one per WeChat openid, per app and mode). */
import { z } from 'zod';
import { modeSchema, pageOf, timestamp } from './common.js';
import { eventStatusSchema } from './console.js';

export const USER_ID = /^usr_[A-Za-z0-9]{1,64}$/;

/** One end user as the server API shows it. */
export const endUserSchema = z.object({
  id: z.string(),
  openid: z.string(),
  unionid: z.string().nullable(),
  nickname: z.string().nullable(),
  avatarUrl: z.string().nullable(),
  firstLoginAt: timestamp,
  lastLoginAt: timestamp,
  loginCount: z.number().int(),
  /** GET /v1/users/:id and export only, when the visitor shared it with an app that asks: E.164, as WeChat verified it. */
  phoneNumber: z.string().optional(),
  phoneNumberVerifiedAt: timestamp.optional(),
});
export type EndUser = z.infer<typeof endUserSchema>;
export const endUserPage = pageOf(endUserSchema);

/** The console lists both modes side by side. */
export const consoleEndUserSchema = endUserSchema.extend({ mode: modeSchema });
export type ConsoleEndUser = z.infer<typeof consoleEndUserSchema>;

export const deletedUserSchema = z.object({ id: z.string(), deleted: z.literal(true) });

/** One login of the user, as we keep it. */
export const userLoginSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  status: eventStatusSchema,
  origin: z.string().nullable(),
  browser: z.string().nullable(),
  os: z.string().nullable(),
  ip: z.string().nullable(),
  location: z.string().nullable(),
  errorCode: z.string().nullable(),
  createdAt: timestamp,
});

/** Everything held about one end user (GET /v1/users/:id/export). */
export const userExportSchema = z.object({
  exportedAt: timestamp,
  user: consoleEndUserSchema,
  logins: z.array(userLoginSchema),
  avatars: z.array(z.object({ id: z.string(), url: z.string(), contentType: z.string(), createdAt: timestamp })),
  webhookMessages: z.array(z.object({ id: z.string(), type: z.string(), payload: z.record(z.string(), z.unknown()), createdAt: timestamp })),
});
export type UserExport = z.infer<typeof userExportSchema>;
