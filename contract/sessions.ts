/** The login session as browsers and the mini-program page see it (DESIGN §4). */
import { z } from 'zod';
import { phoneNumberSettingSchema, timestamp } from './common.js';

/** 128 random bits, base64url: the WeChat `scene` and the session's public id. */
export const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
export const sceneSchema = z.string().regex(SESSION_ID, 'must be the 22-character scene from the code');

/** Who logged in, as the browser's `success` frame and the element's `login` event carry it. */
export const confirmedUserSchema = z.object({
  id: z.string(),
  openid: z.string(),
  unionid: z.string().optional(),
  name: z.string().optional(),
  picture: z.string().optional(),
});
export type ConfirmedUser = z.infer<typeof confirmedUserSchema>;

export const sessionFrameSchema = z.object({
  type: z.literal('session'),
  session: z.string(),
  /** Known only to this browser; it alone receives the token. */
  secret: z.string(),
  expiresAt: timestamp,
  qr: z.string(),
  match: z.string(),
  /** "Open in WeChat" for phones, where WeChat makes URL Links for the app. */
  urlLink: z.string().optional(),
});

/** Server → browser frames; the polling API answers the same objects. */
export const frameSchema = z.discriminatedUnion('type', [
  sessionFrameSchema,
  z.object({ type: z.literal('scanned') }),
  z.object({ type: z.literal('success'), token: z.string(), user: confirmedUserSchema }),
  z.object({ type: z.literal('cancelled') }),
  z.object({ type: z.literal('expired') }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type Frame = z.infer<typeof frameSchema>;
export type SessionFrame = z.infer<typeof sessionFrameSchema>;

/** Browser → server frames on the socket. */
export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('resume'), session: z.string().regex(SESSION_ID), secret: z.string().min(1).max(100) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const eventsQuery = z.object({
  after: z.enum(['session', 'pending', 'scanned', 'success', 'cancelled', 'expired']).optional(),
});

const ticket = z.string().min(20).max(100);
export const scanBody = z.object({ scene: sceneSchema, code: z.string().min(1).max(200) }).strict();
export const answerBody = z.object({ scene: sceneSchema, ticket }).strict();
export const confirmBody = answerBody.extend({
  profile: z.object({
    nickname: z.string().trim().min(1).max(64).optional(),
    avatarUrl: z.url({ protocol: /^https?$/ }).max(500).optional(),
  }).strict().optional(),
  /** The one-time code of `<button open-type="getPhoneNumber">`, when the site asks and the visitor agreed. */
  phoneCode: z.string().min(1).max(256).optional(),
}).strict();

/** What the phone shows before the visitor confirms. */
export const scanAnswerSchema = z.object({
  ticket: z.string(),
  site: z.object({ name: z.string(), origin: z.string(), logoUrl: z.string().optional() }),
  request: z.object({ browser: z.string(), os: z.string(), ip: z.string(), location: z.string().optional(), createdAt: timestamp }),
  match: z.string(),
  expiresAt: timestamp,
  /** What the site asks for beyond the login; absent: nothing (phone number `off`). */
  asks: z.object({ phoneNumber: phoneNumberSettingSchema.exclude(['off']) }).optional(),
});
export type ScanAnswer = z.infer<typeof scanAnswerSchema>;

/** A made-up WeChat identity for the sandbox (test helpers and the sandbox phone). */
export const sandboxOpenidSchema = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'letters, digits, _ and -, 6–64 characters');
export const testScanBody = z.object({ openid: sandboxOpenidSchema.optional() }).strict();
