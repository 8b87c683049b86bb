import { Router } from 'express';
import { z } from 'zod';
import { pageQuery } from '../../../contract/common.js';
import { USER_ID } from '../../../contract/users.js';
import { ApiError } from '../../lib/errors';
import { parse } from '../../lib/http';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { AppsStore } from '../apps/store';
import type { UserRights } from './rights';
import type { UserScope, UsersCursor, UsersStore } from './store';


const cursorSchema = z.object({
  at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)
    // A real instant (no Feb 30): Postgres would refuse it with a 500 otherwise.
    .refine((v) => !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().slice(0, 19) === v.slice(0, 19)),
  id: z.string().regex(USER_ID),
});

/** Opaque to clients: base64url JSON, so the ordering can change without breaking the contract. */
function encodeCursor(c: UsersCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(value: string): UsersCursor {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    json = null;
  }
  const r = cursorSchema.safeParse(json);
  if (!r.success) throw new ApiError('bad_request', 'query.cursor: not a cursor this API returned');
  return r.data;
}

function userIdOf(value: unknown): string {
  if (typeof value !== 'string' || !USER_ID.test(value)) throw new ApiError('not_found', 'No such user');
  return value;
}

export function usersRouter(deps: { apps: AppsStore; users: UsersStore; rights: UserRights }): Router {
  const router = Router();
  const auth = requireSecretKey(deps.apps);

  function scopeOf(res: Parameters<typeof secretKeyAuth>[0]): UserScope {
    const { app, mode } = secretKeyAuth(res);
    return { tenantId: app.tenantId, appId: app.id, mode };
  }

  router.get('/v1/users', auth, async (req, res) => {
    const q = parse(pageQuery, req.query, 'query');
    const page = await deps.users.list(scopeOf(res), { limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : undefined });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ data: page.data, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  router.get('/v1/users/:id', auth, async (req, res) => {
    // Another app's user, another mode's user and a malformed id all look the same.
    const user = await deps.users.get(scopeOf(res), userIdOf(req.params.id));
    if (!user) throw new ApiError('not_found', 'No such user');
    res.setHeader('Cache-Control', 'no-store');
    res.json(user);
  });

  router.get('/v1/users/:id/export', auth, async (req, res) => {
    const data = await deps.rights.exportUser(scopeOf(res), userIdOf(req.params.id));
    if (!data) throw new ApiError('not_found', 'No such user');
    res.setHeader('Cache-Control', 'no-store');
    res.json(data);
  });

  router.delete('/v1/users/:id', auth, async (req, res) => {
    const id = userIdOf(req.params.id);
    if (!(await deps.rights.erase(scopeOf(res), id))) throw new ApiError('not_found', 'No such user');
    res.json({ id, deleted: true });
  });

  return router;
}
