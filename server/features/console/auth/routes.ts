import { eq } from 'drizzle-orm';
import type { Request, Response } from 'express';
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
import { issueToken } from './account-tokens';
import type { SecondFactorChallenges } from './challenges';
import { consoleLink, mountRecoveryRoutes } from './recovery-routes';
import { mountTwoFactorRoutes } from './two-factor-routes';
import { accountMail, pickLocale } from '../../mail/index';
import type { Mailer } from '../../mail/index';
import { audit, auditAccount, consoleActor } from '../../audit/index';

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
  next: 'verify',
  message: 'Check your inbox: we sent a message to this email. Follow its link to confirm the address, then sign in.',
};

export interface AuthDeps {
  db: Db;
  limiter: LoginLimiter;
  secureCookies: () => boolean;
  mailer: Mailer;
  publicUrl: () => string;
  masterKey: Buffer;
  challenges: SecondFactorChallenges;
}

export function mountAuthRoutes(r: ConsoleRouter, deps: AuthDeps): void {
  const { db, limiter } = deps;

  async function me(accountId: string, csrfToken: string) {
    const [a] = await db.select({ id: accounts.id, email: accounts.email, name: accounts.name, verifiedAt: accounts.emailVerifiedAt, totpAt: accounts.totpEnabledAt })
      .from(accounts).where(eq(accounts.id, accountId));
    if (!a) throw new ApiError('unauthorized', 'Please sign in again');
    const account = { id: a.id, email: a.email, name: a.name, emailVerified: a.verifiedAt !== null, twoFactor: a.totpAt !== null };
    return { account, tenants: await tenantsOf(db, accountId), csrfToken };
  }

  async function startSession(req: Request, res: Response, accountId: string) {
    const s = await createSession(db, accountId, req.get('user-agent'));
    setSessionCookie(res, s.token, deps.secureCookies());
    return me(accountId, s.csrfToken);
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
    const token = await db.transaction(async (tx) => {
      const inserted = await tx.insert(accounts)
        .values({ id, email: body.email, name: body.name || null, passwordHash })
        .onConflictDoNothing()
        .returning({ id: accounts.id });
      // A known email changes nothing here: its owner joins by signing in and accepting.
      if (!inserted.length) return null;
      const tenantId = body.invitation
        ? (await acceptInvitation(tx, body.invitation, id)).tenantId
        : (await createTenant(tx, id, body.organisation || `${body.name || body.email.split('@')[0]}'s organisation`)).id;
      await audit(tx, { type: 'account', id, email: body.email, ip: req.ip }, { tenantId, action: body.invitation ? 'member.joined' : 'tenant.created', target: { type: 'account', id } });
      return issueToken(tx, id, 'verify');
    });
    // The mail is the only thing that differs: the owner of a known email hears of the attempt.
    const locale = pickLocale(req.get('accept-language'));
    if (token) deps.mailer.send(accountMail('verify', locale, body.email, consoleLink(deps.publicUrl(), 'verify', token)));
    else if (await limiter.mailToEmail(body.email)) deps.mailer.send(accountMail('exists', locale, body.email, `${deps.publicUrl()}/console/signin`));
    res.status(202);
    return SIGN_UP_ANSWER;
  });

  r.open('post', '/auth/signin', async (req, res) => {
    const body = parse(signInBody, req.body);
    const ip = req.ip ?? 'unknown';
    await limiter.signIn(ip, body.email);
    const [a] = await db.select({ id: accounts.id, passwordHash: accounts.passwordHash, totpAt: accounts.totpEnabledAt }).from(accounts).where(eq(accounts.email, body.email));
    const ok = await verifyPassword(body.password, a?.passwordHash ?? (await dummyHash()));
    const actor = { type: 'account' as const, id: a?.id, email: body.email, ip };
    if (!a || !ok) {
      if (a) await auditAccount(db, actor, a.id, 'account.signin_failed', { reason: 'password' });
      throw new ApiError('unauthorized', 'That email and password don\'t match an account');
    }
    await limiter.signedIn(ip, body.email);
    // With two-factor on, the password only earns a short-lived challenge; the code finishes it.
    if (a.totpAt) return { next: 'second_factor', challenge: await deps.challenges.issue(a.id) };
    await auditAccount(db, actor, a.id, 'account.signed_in');
    return startSession(req, res, a.id);
  });

  mountRecoveryRoutes(r, { ...deps, startSession });
  mountTwoFactorRoutes(r, { ...deps, startSession });

  r.account('post', '/auth/signout', async (_req, res, ctx) => {
    await deleteSession(db, ctx.tokenHash);
    clearSessionCookie(res, deps.secureCookies());
    return undefined;
  });

  r.account('get', '/auth/me', async (_req, _res, ctx) => me(ctx.account.id, ctx.csrfToken));

  r.account('post', '/tenants', async (req, res, ctx) => {
    const body = parse(z.object({ name: z.string().trim().min(1).max(100) }), req.body);
    const t = await db.transaction(async (tx) => {
      const created = await createTenant(tx, ctx.account.id, body.name);
      await audit(tx, consoleActor(req, ctx.account), { tenantId: created.id, action: 'tenant.created', target: { type: 'tenant', id: created.id }, summary: { name: body.name } });
      return created;
    });
    res.status(201);
    return { ...t, role: 'owner' };
  });
}
