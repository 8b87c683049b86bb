/** The end users of an app (one per WeChat openid, per app and mode). */
import { z } from 'zod';
import { modeSchema, pageOf, timestamp } from './common.js';

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
});
export type EndUser = z.infer<typeof endUserSchema>;
export const endUserPage = pageOf(endUserSchema);

/** The console lists both modes side by side. */
export const consoleEndUserSchema = endUserSchema.extend({ mode: modeSchema });
export type ConsoleEndUser = z.infer<typeof consoleEndUserSchema>;
