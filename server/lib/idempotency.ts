import type { Request, Response } from 'express';
import { and, eq, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client';
import { idempotencyKeys } from '../db/schema/index';
import { decrypt, encrypt, sha256 } from './crypto';
import { ApiError } from './errors';
import { parse } from './http';

/** How long an answer is kept for a retry (Stripe keeps keys for 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/**
 * A first request still in flight after this is taken to have died with its process (it is far
 * past any request deadline), and a retry with its key may run in its place.
 */
const ABANDONED_MS = 5 * 60_000;

const keyHeader = z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 printable ASCII characters, no spaces').optional();

export interface IdempotencyScope { tenantId: string; appId: string; mode: string }
export interface Answer { status: number; body: unknown }

const ik = idempotencyKeys;

/**
 * `Idempotency-Key` on a creating route, as Stripe does it: the first request with a key runs
 * and its 2xx answer is kept; a retry with the same key and body gets that answer again (with
 * `Idempotent-Replayed: true`) and creates nothing; the same key with another body is a 400,
 * and a retry while the first is still running a 409. A failed first request keeps nothing,
 * so its retry runs afresh. Without the header the route just runs.
 */
export function createIdempotency(db: Db, masterKey: Buffer) {
  const context = (s: IdempotencyScope, route: string, key: string) => `idempotency:${s.appId}:${s.mode}:${route}:${key}`;
  const match = (s: IdempotencyScope, route: string, key: string) =>
    and(eq(ik.appId, s.appId), eq(ik.mode, s.mode), eq(ik.route, route), eq(ik.key, key));

  /** Claims the key for this request; answers the row that holds it instead, if another does. */
  async function claim(s: IdempotencyScope, route: string, key: string, requestHash: string) {
    const now = new Date();
    const [mine] = await db.insert(ik).values({ tenantId: s.tenantId, appId: s.appId, mode: s.mode, route, key, requestHash, createdAt: now })
      .onConflictDoUpdate({
        target: [ik.appId, ik.mode, ik.route, ik.key],
        // Only an expired key, or a first request that was abandoned, is taken over.
        set: { requestHash, statusCode: null, responseEnc: null, createdAt: now },
        setWhere: sql`${ik.createdAt} < ${new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString()}::timestamptz
          or (${ik.statusCode} is null and ${ik.createdAt} < ${new Date(now.getTime() - ABANDONED_MS).toISOString()}::timestamptz)`,
      })
      .returning({ key: ik.key });
    if (mine) return null;
    const [held] = await db.select().from(ik).where(match(s, route, key));
    return held ?? null;
  }

  return {
    async respond(req: Request, res: Response, scope: IdempotencyScope, route: string, run: () => Promise<Answer>): Promise<void> {
      const key = parse(keyHeader, req.get('idempotency-key'), 'header Idempotency-Key');
      if (!key) {
        const answer = await run();
        res.status(answer.status).json(answer.body);
        return;
      }
      const requestHash = sha256(JSON.stringify(req.body ?? {}));
      const held = await claim(scope, route, key, requestHash);
      if (held) {
        if (held.requestHash !== requestHash) throw new ApiError('bad_request', 'This Idempotency-Key was used with a different request body', { field: 'Idempotency-Key', reason: 'reused with another body' });
        if (held.statusCode === null || !held.responseEnc) throw new ApiError('conflict', 'A request with this Idempotency-Key is still in progress; retry shortly');
        res.setHeader('Idempotent-Replayed', 'true');
        res.status(held.statusCode).json(JSON.parse(decrypt(masterKey, held.responseEnc, context(scope, route, key))));
        return;
      }
      let answer: Answer;
      try {
        answer = await run();
      } catch (err) {
        await db.delete(ik).where(match(scope, route, key)).catch(() => undefined);
        throw err;
      }
      await db.update(ik)
        .set({ statusCode: answer.status, responseEnc: encrypt(masterKey, JSON.stringify(answer.body), context(scope, route, key)) })
        .where(match(scope, route, key));
      res.status(answer.status).json(answer.body);
    },

    /** Drops the keys past their day; run by the periodic retention pass. */
    async prune(now = new Date()): Promise<void> {
      await db.delete(ik).where(lt(ik.createdAt, new Date(now.getTime() - IDEMPOTENCY_TTL_MS)));
    },
  };
}

export type Idempotency = ReturnType<typeof createIdempotency>;
