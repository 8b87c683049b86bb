/**
 * Shapes shared by every part of the contract. This folder is the one source of the wire
 * format: the server validates with these schemas, the console and the SDK import their
 * types, and the OpenAPI document is generated from them. It imports nothing but zod, so
 * the browser bundle and the SDK can use it without pulling in server code.
 */
import { z } from 'zod';
import { CODE_STYLES, ENV_VERSIONS, MODES, PHONE_NUMBER_SETTINGS } from './constants.js';

export const modeSchema = z.enum(MODES);
export type Mode = z.infer<typeof modeSchema>;

export const envVersionSchema = z.enum(ENV_VERSIONS);
export type EnvVersion = z.infer<typeof envVersionSchema>;
export const codeStyleSchema = z.enum(CODE_STYLES);
export type CodeStyle = z.infer<typeof codeStyleSchema>;
export const phoneNumberSettingSchema = z.enum(PHONE_NUMBER_SETTINGS);
export type PhoneNumberSetting = z.infer<typeof phoneNumberSettingSchema>;

/** An app and the mode of the key that names it: what a per-app, per-mode call is about. */
export interface AppRef {
  appId: string;
  mode: Mode;
}

/** Instants travel as ISO 8601 strings (what `JSON.stringify` makes of a Date). */
export const timestamp = z.string().describe('ISO 8601 date-time');

/** Lists page with an opaque cursor; `nextCursor` is null on the last page. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}
export type Page<T> = { data: T[]; nextCursor: string | null };

export const pageQuery = z.object({
  cursor: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** Every error answer: `{error:{code, message, requestId}}`, the status from the server's code table. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const okSchema = z.object({ ok: z.literal(true) });
