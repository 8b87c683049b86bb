import express, { type NextFunction, type Request, type Response } from 'express';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../../db/client';
import { memberships, tenants } from '../../../db/schema/index';
import { safeEqual } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';
import { readSessionToken } from './cookies';
import { findSession, type SignedIn } from './session-store';
import { jsonBody } from '../../../lib/http';

export type Role = 'owner' | 'admin' | 'viewer';
export const ROLE_RANK: Record<Role, number> = { viewer: 0, admin: 1, owner: 2 };

export const API = '/console/api';

export interface AccountCtx extends SignedIn {}
export interface TenantCtx extends SignedIn {
  tenantId: string;
  role: Role;
}

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
type Handler<C> = (req: Request, res: Response, ctx: C) => Promise<unknown>;

/**
 * Every console API route is declared through one of four doors, so scoping can't be
 * forgotten: `open` (no session: sign-up, sign-in), `account` (a signed-in person),
 * `read` (a member of the `:tenantId` in the path, any role) and `write` (a member with at
 * least the given role; viewers never pass). Writes also need the CSRF token and a
 * same-origin `Origin`. All routes sit flat on one Router so a test can walk them.
 */
export function createConsoleRouter(opts: { db: Db; publicUrl: () => string }) {
  const router = express.Router();
  router.use(API, (_req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    next();
  });
  router.use(API, jsonBody('16kb'));

  function sameOrigin(req: Request): boolean {
    if (req.get('sec-fetch-site') === 'cross-site') return false;
    const origin = req.get('origin');
    if (!origin) return true;
    const allowed = new Set([new URL(opts.publicUrl()).origin, `${req.protocol}://${req.get('host')}`]);
    return allowed.has(origin);
  }

  async function signedIn(req: Request): Promise<SignedIn> {
    const token = readSessionToken(req, opts.publicUrl().startsWith('https://'));
    const s = token ? await findSession(opts.db, token) : null;
    if (!s) throw new ApiError('unauthorized', 'Please sign in again');
    return s;
  }

  function checkCsrf(req: Request, s: SignedIn): void {
    if (!sameOrigin(req)) throw new ApiError('csrf_failed', 'This request came from another site and was refused');
    const given = req.get('x-csrf-token') ?? '';
    if (!given || !safeEqual(given, s.csrfToken)) {
      throw new ApiError('csrf_failed', 'Your session token is missing or stale; reload the page and try again');
    }
  }

  async function member(req: Request, s: SignedIn): Promise<TenantCtx> {
    const tenantId = String(req.params.tenantId ?? '');
    const rows = await opts.db
      .select({ role: memberships.role, require2fa: tenants.require2fa })
      .from(memberships)
      .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
      .where(and(eq(memberships.tenantId, tenantId), eq(memberships.accountId, s.account.id)))
      .limit(1);
    // Not a member looks exactly like "doesn't exist": ids of other tenants reveal nothing.
    if (!rows[0]) throw new ApiError('not_found', 'No such organisation');
    // The owner's rule holds on every route of the organisation, reads included.
    if (rows[0].require2fa && !s.account.twoFactor) {
      throw new ApiError('two_factor_required', 'This organisation requires two-factor sign-in: turn it on under Security first');
    }
    return { ...s, tenantId, role: rows[0].role };
  }

  function add<C>(method: Method, path: string, build: (req: Request) => Promise<C>, handler: Handler<C>): void {
    router[method](API + path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        const ctx = await build(req);
        const body = await handler(req, res, ctx);
        if (!res.headersSent) {
          if (body === undefined) res.status(204).end();
          else res.json(body);
        }
      } catch (err) {
        next(err);
      }
    });
  }

  return {
    router,
    /** No session needed (sign-up, sign-in); still refuses cross-site posts. */
    open(method: Method, path: string, handler: Handler<undefined>) {
      add(method, path, async (req) => {
        if (method !== 'get' && !sameOrigin(req)) throw new ApiError('csrf_failed', 'This request came from another site and was refused');
        return undefined;
      }, handler);
    },
    account(method: Method, path: string, handler: Handler<AccountCtx>) {
      add(method, path, async (req) => {
        const s = await signedIn(req);
        if (method !== 'get') checkCsrf(req, s);
        return s;
      }, handler);
    },
    read(path: string, handler: Handler<TenantCtx>) {
      if (!path.startsWith('/tenants/:tenantId')) throw new Error(`tenant route must start with /tenants/:tenantId: ${path}`);
      add('get', path, async (req) => member(req, await signedIn(req)), handler);
    },
    write(method: Exclude<Method, 'get'>, path: string, minRole: 'admin' | 'owner', handler: Handler<TenantCtx>) {
      if (!path.startsWith('/tenants/:tenantId')) throw new Error(`tenant route must start with /tenants/:tenantId: ${path}`);
      add(method, path, async (req) => {
        const s = await signedIn(req);
        checkCsrf(req, s);
        const ctx = await member(req, s);
        if (ROLE_RANK[ctx.role] < ROLE_RANK[minRole]) {
          throw new ApiError('forbidden', minRole === 'owner' ? 'Only an owner can do this' : 'Viewers can look but not change anything; ask an admin');
        }
        return ctx;
      }, handler);
    },
  };
}

export type ConsoleRouter = ReturnType<typeof createConsoleRouter>;

/**
 * Live keys, invitations and billing wait for a proven email: until then the account could
 * be someone else's address typed by a stranger.
 */
export function requireVerified(ctx: SignedIn): void {
  if (!ctx.account.emailVerified) throw new ApiError('email_unverified', 'Confirm your email first: follow the link we sent (Security page: send it again)');
}

/** Route params are ids we minted; anything else can't exist, so it is a 404, not a 400. */
export function idParam(req: Request, name: string, prefix: string): string {
  const v = String(req.params[name] ?? '');
  if (!new RegExp(`^${prefix}_[A-Za-z0-9]{8,40}$`).test(v)) throw new ApiError('not_found', 'Not found');
  return v;
}
