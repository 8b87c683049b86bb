import { z } from 'zod';
import { ApiError } from '../../lib/errors';
import { eventTypeSchema } from './events';
import type { MessagesCursor } from './store';

/** The webhook API's inputs, validated at each edge (server API and console) with these. */
export const ENDPOINT_ID = /^ep_[A-Za-z0-9]{1,64}$/;
export const MESSAGE_ID = /^msg_[A-Za-z0-9]{1,64}$/;

export const endpointInput = z.object({
  url: z.string().min(1).max(2048),
  events: z.array(eventTypeSchema).max(10).optional(),
  description: z.string().max(500).nullable().optional(),
});

export const endpointPatch = z.object({
  url: z.string().min(1).max(2048).optional(),
  events: z.array(eventTypeSchema).max(10).optional(),
  description: z.string().max(500).nullable().optional(),
  enabled: z.boolean().optional(),
});

const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date').transform((v) => new Date(v));

export const messagesQuery = z.object({
  cursor: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  type: z.string().max(64).optional(),
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
  endpoint_id: z.string().regex(ENDPOINT_ID).optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
});

export type MessagesQuery = z.infer<typeof messagesQuery>;

export const replayBody = z.object({ endpointId: z.string().regex(ENDPOINT_ID).optional() });
export const replayFailedBody = z.object({ since: isoDate });

const cursorSchema = z.object({ at: z.string().min(1).max(64), id: z.string().regex(MESSAGE_ID) });

export function encodeCursor(c: MessagesCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(value: string): MessagesCursor {
  let json: unknown = null;
  try {
    json = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    // fall through to the schema's refusal
  }
  const r = cursorSchema.safeParse(json);
  if (!r.success || Number.isNaN(Date.parse(r.data.at))) throw new ApiError('bad_request', 'query.cursor: not a cursor this API returned');
  return r.data;
}

export function idParam(value: unknown, re: RegExp, what: string): string {
  // A malformed id, another app's id and a missing one all answer the same 404.
  if (typeof value !== 'string' || !re.test(value)) throw new ApiError('not_found', `No such ${what}`);
  return value;
}
