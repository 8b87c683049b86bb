import { z } from 'zod';
import { ApiError } from '../../lib/errors';
import { ENDPOINT_ID, MESSAGE_ID, endpointInput, endpointPatch, messagesQuery, replayBody, replayFailedBody } from '../../../contract/webhooks.js';
import type { MessagesCursor } from './store';

/** The webhook API's inputs (the contract's), validated at each edge (server API and console). */
export { ENDPOINT_ID, MESSAGE_ID, endpointInput, endpointPatch, messagesQuery, replayBody, replayFailedBody };
export type MessagesQuery = z.infer<typeof messagesQuery>;

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
