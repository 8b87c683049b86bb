import { eq, sql } from 'drizzle-orm';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { accounts } from '../../../db/schema/index';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { auditAccount } from '../../audit/index';
import { accountMail, pickLocale } from '../../mail/index';
import { consumeToken, dropUnusedTokens, issueToken } from './account-tokens';
import { hashPassword } from './password';
import { judgePassword } from './password-strength';
import type { ConsoleRouter } from './guard';
import type { AuthDeps } from './routes';
import { deleteOtherSessions } from './session-store';

const token = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'is not a token from one of our links');
const email = z.string().trim().toLowerCase().max(254).email('is not an email address');
const password = z.string().min(10, 'must be at least 10 characters').max(200, 'must be at most 200 characters');

/** Every mailed link is a console page carrying its token as `token=`; the page posts it back. */
export function consoleLink(publicUrl: string, page: 'verify' | 'reset', t: string): string {
  return `${publicUrl}/console/${page}?token=${encodeURIComponent(t)}`;
}

type Deps = AuthDeps & { startSession(req: Request, res: Response, accountId: string): Promise<unknown> };

/** Email verification and password reset by emailed, single-use links. */
export function mountRecoveryRoutes(r: ConsoleRouter, deps: Deps): void {
  const { db, limiter, mailer } = deps;

  r.open('post', '/auth/verify', async (req) => {
    const body = parse(z.object({ token }), req.body);
    const accountId = await db.transaction(async (tx) => {
      const id = await consumeToken(tx, body.token, 'verify');
      const [a] = await tx.update(accounts).set({ emailVerifiedAt: sql`coalesce(${accounts.emailVerifiedAt}, now())` })
        .where(eq(accounts.id, id)).returning({ email: accounts.email });
      await auditAccount(tx, { type: 'account', id, email: a?.email, ip: req.ip }, id, 'account.email_verified');
      return id;
    });
    return { verified: true, accountId };
  });

  r.account('post', '/auth/verify/resend', async (req, res, ctx) => {
    if (ctx.account.emailVerified) throw new ApiError('conflict', 'This email is confirmed already');
    await limiter.verifyResend(ctx.account.id);
    const t = await db.transaction(async (tx) => {
      await dropUnusedTokens(tx, ctx.account.id);
      return issueToken(tx, ctx.account.id, 'verify');
    });
    mailer.send(accountMail('verify', pickLocale(req.get('accept-language')), ctx.account.email, consoleLink(deps.publicUrl(), 'verify', t)));
    res.status(202);
    return { sent: true };
  });

  r.open('post', '/auth/forgot', async (req, res) => {
    await limiter.forgot(req.ip ?? 'unknown');
    const body = parse(z.object({ email }), req.body);
    res.status(202);
    const answer = { message: 'If this email has an account, a link to choose a new password is on its way. It works once, within 15 minutes.' };
    const [a] = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.email, body.email));
    if (!a || !(await limiter.mailToEmail(body.email))) return answer;
    const t = await issueToken(db, a.id, 'reset');
    mailer.send(accountMail('reset', pickLocale(req.get('accept-language')), body.email, consoleLink(deps.publicUrl(), 'reset', t)));
    return answer;
  });

  r.open('post', '/auth/reset', async (req) => {
    const body = parse(z.object({ token, password }), req.body);
    const passwordHash = await hashPassword(body.password);
    await db.transaction(async (tx) => {
      const id = await consumeToken(tx, body.token, 'reset');
      const [a] = await tx.select({ email: accounts.email, name: accounts.name }).from(accounts).where(eq(accounts.id, id));
      const strength = judgePassword(body.password, [a?.email ?? '', a?.name ?? '']);
      // Thrown inside the transaction, so a weak password leaves the link usable for a better one.
      if (!strength.ok) throw new ApiError('bad_request', `body.password: ${strength.reason}`, { field: 'password', reason: strength.reason });
      // The link's owner proved the mailbox, so the email counts as confirmed too.
      await tx.update(accounts).set({ passwordHash, passwordChangedAt: sql`now()`, emailVerifiedAt: sql`coalesce(${accounts.emailVerifiedAt}, now())` }).where(eq(accounts.id, id));
      await dropUnusedTokens(tx, id);
      await deleteOtherSessions(tx, id, null);
      await auditAccount(tx, { type: 'account', id, email: a?.email, ip: req.ip }, id, 'account.password_reset');
    });
    return { reset: true, message: 'Your password is changed and every session of this account is signed out. Sign in with the new password.' };
  });
}
