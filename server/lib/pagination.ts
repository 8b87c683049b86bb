import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { ApiError } from './errors';

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Keyset cursors over (time desc, id desc): stable while rows arrive, cheap at any depth.
 * The time travels as microseconds since the epoch because a JS Date would cut Postgres's
 * microseconds to milliseconds and skip rows that share the millisecond.
 */
export function microsOf(col: AnyColumn): SQL<string> {
  return sql<string>`(extract(epoch from ${col}) * 1000000)::bigint::text`;
}

export function encodeCursor(micros: string, id: string): string {
  return Buffer.from(JSON.stringify({ us: micros, id })).toString('base64url');
}

// 16 digits of microseconds reach the year 2286; more would overflow the bigint the query casts to.
const cursorShape = z.object({ us: z.string().regex(/^\d{1,16}$/), id: z.string().max(64) });

export function decodeCursor(cursor: string | undefined): { us: string; id: string } | null {
  if (!cursor) return null;
  try {
    return cursorShape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ApiError('bad_request', 'query.cursor: is not a cursor this API returned');
  }
}

/** Rows strictly after the cursor in (time desc, id desc) order; a row comparison the index can serve. */
export function afterCursor(timeCol: AnyColumn, idCol: AnyColumn, c: { us: string; id: string } | null): SQL | undefined {
  if (!c) return undefined;
  return sql`(${timeCol}, ${idCol}) < ('epoch'::timestamptz + ${c.us}::bigint * interval '1 microsecond', ${c.id})`;
}

/** Cut a page of limit+1 rows and make the cursor from the last one kept. */
export function toPage<T extends { _us: string; id: string }>(rows: T[], limit: number): Page<Omit<T, '_us'>> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: kept.map(({ _us, ...rest }) => rest),
    nextCursor: rows.length > limit && last ? encodeCursor(last._us, last.id) : null,
  };
}

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10000, 0, 1);

/** An ISO 8601 time a filter can use: a real calendar day (no 30 February) between 1970 and 9999. */
export const filterTime = z.iso.datetime({ offset: true }).refine((v) => {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const realDay = new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
  const t = Date.parse(v);
  return realDay && t >= EARLIEST && t < LATEST;
}, 'must be a real date and time between 1970 and 9999');

export const pageQuery = z.object({
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});
