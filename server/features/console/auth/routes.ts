import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { SignUpAnswer } from '../../../../contract/console.js';
import type { Db } from '../../../db/client';
import { accounts } from '../../../db/schema/index';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { newId } from '../../../lib/ids';
import { acceptInvitation, createTenant, previewInvitation, tenantsOf } from '../team/store';
import { clearSessionCookie, setSessionCookie } from './cookies';
import type { ConsoleRouter } from './guard';
import type { LoginLimiter } from './limiter';
import { dummyHash, hashPassword, verifyPassword } from './password';
import { judgePassword } from './password-strength';
import { createSession, deleteSession } from './session-store';

const email = z.string().trim().toLowerCase().max(254).email('is not an email address');
// NIST 800-63B: length matters, composition rules don't; the cap bounds hashing cost.
const password = z.string().min(10, 'must be at least 10 characters').max(200, 'must be at most 200 characters');

const signUpBody = z.object({
  email,
  password,
  name: z.string().trim().max(100).optional(),
  organisation: z.string().trim().min(1).max(100).optional(),
  /** Signing up from an invitation link joins that organisation instead of creating an empty one. */
  invitation: z.string().regex(/^[A-Za-z0-9_-]{20,64}$/, 'is not an invitation token').optional(),
}).superRefine((b, ctx) => {
  const strength = judgePassword(b.password, [b.email, b.name ?? '', b.organisation ?? '']);
  if (!strength.ok) ctx.addIssue({ code: 'custom', path: ['password'], message: strength.reason });
});
const signInBody = z.object({ email, password: z.string().min(1).max(200) });

/**
 * What sign-up answers, whether or not the email already had an account: it never says which
 * (issue 11 item 5). A new email gets its account and organisation; a known one changes
 * nothing. Either way the next step is signing in with the same email and password, which the
 * console does at once: a newcomer is in; someone who already had an account is in if they
 * typed its password, and otherwise is asked to sign in with it.
 */
export const SIGN_UP_ANSWER: SignUpAnswer = {
  next: 'signin',
  message: 'Sign in with this email and password to continue. If the email already had an account, use that account\'s password.',
};

export function mountAuthRoutes(r: ConsoleRouter, deps: { db: Db; limiter: LoginLimiter; secureCookies: () => boolean }): void {
  const { db, limiter } = deps;

  async function me(accountId: string, csrfToken: string) {
    const [a] = await db.select({ id: accounts.id, email: accounts.email, name: accounts.name }).from(accounts).where(eq(accounts.id, accountId));
    return { account: a, tenants: await tenantsOf(db, accountId), csrfToken };
  }

  r.open('post', '/auth/signup', async (req, res) => {
    await limiter.signUp(req.ip ?? 'unknown');
    const body = parse(signUpBody, req.body);
    // A used or expired invitation fails the whole sign-up (nothing is created), so the person
    // can ask for a new link instead of ending up in an organisation of their own. It is
    // checked before the email, so the answer is the same for a known email as for a new one.
    if (body.invitation) await previewInvitation(db, body.invitation);
    // Hashed in both cases, so a known email costs the same time as a new one.
    const passwordHash = await hashPassword(body.password);
    const id = newId('acc');
    await db.transaction(async (tx) => {
      const inserted = await tx.insert(accounts)
        .values({ id, email: body.email, name: body.name || null, passwordHash })
        .onConflictDoNothing()
        .returning({ id: accounts.id });
      // A known email changes nothing here: its owner joins by signing in and accepting.
      if (!inserted.length) return;
      if (body.invitation) await acceptInvitation(tx, body.invitation, id);
      else await createTenant(tx, id, body.organisation || `${body.name || body.email.split('@')[0]}'s organisation`);
    });
    res.status(202);
    return SIGN_UP_ANSWER;
  });

  r.open('post', '/auth/signin', async (req, res) => {
    const body = parse(signInBody, req.body);
    const ip = req.ip ?? 'unknown';
    await limiter.signIn(ip, body.email);
    const [a] = await db.select({ id: accounts.id, passwordHash: accounts.passwordHash }).from(accounts).where(eq(accounts.email, body.email));
    const ok = await verifyPassword(body.password, a?.passwordHash ?? (await dummyHash()));
    if (!a || !ok) throw new ApiError('unauthorized', 'That email and password don\'t match an account');
    await limiter.signedIn(ip, body.email);
    const s = await createSession(db, a.id, req.get('user-agent'));
    setSessionCookie(res, s.token, deps.secureCookies());
    return me(a.id, s.csrfToken);
  });

  r.account('post', '/auth/signout', async (_req, res, ctx) => {
    await deleteSession(db, ctx.tokenHash);
    clearSessionCookie(res, deps.secureCookies());
    return undefined;
  });

  r.account('get', '/auth/me', async (_req, _res, ctx) => me(ctx.account.id, ctx.csrfToken));

  r.account('post', '/tenants', async (req, res, ctx) => {
    const body = parse(z.object({ name: z.string().trim().min(1).max(100) }), req.body);
    const t = await db.transaction((tx) => createTenant(tx, ctx.account.id, body.name));
    res.status(201);
    return { ...t, role: 'owner' };
  });
}
