import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Request, Response } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { DbOrTx } from '../../../db/client';
import { accounts, recoveryCodes, tenants } from '../../../db/schema/index';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { audit, auditAccount, consoleActor } from '../../audit/index';
import type { ConsoleRouter } from './guard';
import { verifyPassword } from './password';
import type { AuthDeps } from './routes';
import { checkTotp, hashRecoveryCode, newRecoveryCodes, newTotpSecret, otpauthUri } from './totp';

const code = z.string().trim().regex(/^\d{6}$/, 'must be the 6 digits your authenticator app shows');
const secondFactorBody = z.object({
  challenge: z.string().regex(/^[A-Za-z0-9_-]{20,64}$/, 'is not a sign-in challenge'),
  code: code.optional(),
  recoveryCode: z.string().trim().regex(/^[a-z0-9]{5}-?[a-z0-9]{5}$/i, 'is not a recovery code').optional(),
}).refine((b) => Boolean(b.code) !== Boolean(b.recoveryCode), { message: 'send either code or recoveryCode', path: ['code'] });

type Deps = AuthDeps & { startSession(req: Request, res: Response, accountId: string): Promise<unknown> };

/**
 * Two-factor sign-in (TOTP, RFC 6238, with otplib) and its recovery codes: enrol (QR code),
 * confirm with a first code (turns it on, shows ten recovery codes once), disable (password
 * and a current code), the code step of sign-in, and an owner's "require it for everyone".
 */
export function mountTwoFactorRoutes(r: ConsoleRouter, deps: Deps): void {
  const { db, masterKey } = deps;

  /** A code accepted once moves the account's last step on; the same code can't be used again. */
  async function acceptCode(tx: DbOrTx, accountId: string, given: string): Promise<boolean> {
    const [a] = await tx.select({ sealed: accounts.totpSecret, last: accounts.totpLastStep }).from(accounts).where(eq(accounts.id, accountId)).for('update');
    if (!a?.sealed) return false;
    const step = await checkTotp(masterKey, accountId, a.sealed, given, a.last);
    if (step === null) return false;
    await tx.update(accounts).set({ totpLastStep: step }).where(eq(accounts.id, accountId));
    return true;
  }

  async function spendRecoveryCode(tx: DbOrTx, accountId: string, given: string): Promise<boolean> {
    const rows = await tx.update(recoveryCodes).set({ usedAt: sql`now()` })
      .where(and(eq(recoveryCodes.accountId, accountId), eq(recoveryCodes.codeHash, hashRecoveryCode(given)), isNull(recoveryCodes.usedAt)))
      .returning({ h: recoveryCodes.codeHash });
    return rows.length === 1;
  }

  r.account('get', '/auth/2fa', async (_req, _res, ctx) => {
    const left = await db.select({ n: sql<number>`count(*)::int` }).from(recoveryCodes).where(and(eq(recoveryCodes.accountId, ctx.account.id), isNull(recoveryCodes.usedAt)));
    return { enabled: ctx.account.twoFactor, recoveryCodesLeft: ctx.account.twoFactor ? (left[0]?.n ?? 0) : 0 };
  });

  r.account('post', '/auth/2fa/enrol', async (_req, _res, ctx) => {
    if (ctx.account.twoFactor) throw new ApiError('conflict', 'Two-factor is on already; turn it off first to enrol another device');
    const { secret, sealed } = newTotpSecret(masterKey, ctx.account.id);
    await db.update(accounts).set({ totpSecret: sealed, totpLastStep: null }).where(and(eq(accounts.id, ctx.account.id), isNull(accounts.totpEnabledAt)));
    const uri = otpauthUri(secret, ctx.account.email);
    return { secret, uri, qr: await QRCode.toDataURL(uri, { type: 'image/png', margin: 1, width: 220 }) };
  });

  r.account('post', '/auth/2fa/confirm', async (req, _res, ctx) => {
    const body = parse(z.object({ code }), req.body);
    await deps.limiter.secondFactor(ctx.account.id);
    return db.transaction(async (tx) => {
      if (ctx.account.twoFactor) throw new ApiError('conflict', 'Two-factor is on already');
      if (!(await acceptCode(tx, ctx.account.id, body.code))) throw new ApiError('bad_request', 'body.code: does not match; check the phone\'s clock and try the next code', { field: 'code', reason: 'does not match' });
      const { codes, hashes } = newRecoveryCodes();
      await tx.delete(recoveryCodes).where(eq(recoveryCodes.accountId, ctx.account.id));
      await tx.insert(recoveryCodes).values(hashes.map((codeHash) => ({ codeHash, accountId: ctx.account.id })));
      await tx.update(accounts).set({ totpEnabledAt: sql`now()` }).where(eq(accounts.id, ctx.account.id));
      await auditAccount(tx, consoleActor(req, ctx.account), ctx.account.id, 'account.2fa_enabled');
      return { enabled: true, recoveryCodes: codes };
    });
  });

  r.account('post', '/auth/2fa/disable', async (req, _res, ctx) => {
    const body = parse(z.object({ password: z.string().min(1).max(200), code }), req.body);
    await deps.limiter.secondFactor(ctx.account.id);
    await db.transaction(async (tx) => {
      const [a] = await tx.select({ hash: accounts.passwordHash }).from(accounts).where(eq(accounts.id, ctx.account.id));
      const passwordOk = await verifyPassword(body.password, a?.hash ?? '');
      const codeOk = await acceptCode(tx, ctx.account.id, body.code);
      if (!passwordOk || !codeOk) throw new ApiError('unauthorized', 'The password or the code is wrong');
      await tx.update(accounts).set({ totpSecret: null, totpEnabledAt: null, totpLastStep: null }).where(eq(accounts.id, ctx.account.id));
      await tx.delete(recoveryCodes).where(eq(recoveryCodes.accountId, ctx.account.id));
      await auditAccount(tx, consoleActor(req, ctx.account), ctx.account.id, 'account.2fa_disabled');
    });
    return { enabled: false };
  });

  r.open('post', '/auth/signin/second-factor', async (req, res) => {
    const body = parse(secondFactorBody, req.body);
    const accountId = await deps.challenges.peek(body.challenge);
    await deps.limiter.secondFactor(accountId);
    const [a] = await db.select({ email: accounts.email }).from(accounts).where(eq(accounts.id, accountId));
    const actor = { type: 'account' as const, id: accountId, email: a?.email, ip: req.ip };
    const ok = await db.transaction(async (tx) => {
      const passed = body.code ? await acceptCode(tx, accountId, body.code) : await spendRecoveryCode(tx, accountId, body.recoveryCode!);
      if (passed) await auditAccount(tx, actor, accountId, 'account.signed_in', { secondFactor: body.code ? 'totp' : 'recovery_code' });
      return passed;
    });
    if (!ok) {
      await auditAccount(db, actor, accountId, 'account.signin_failed', { reason: 'second_factor' });
      throw new ApiError('unauthorized', 'That code is wrong or was used already');
    }
    if (!(await deps.challenges.spend(body.challenge))) throw new ApiError('unauthorized', 'This sign-in has expired; enter your email and password again');
    return deps.startSession(req, res, accountId);
  });

  r.read('/tenants/:tenantId/security', async (_req, _res, ctx) => {
    const [t] = await db.select({ require2fa: tenants.require2fa }).from(tenants).where(eq(tenants.id, ctx.tenantId));
    return { require2fa: t?.require2fa ?? false };
  });

  r.write('patch', '/tenants/:tenantId/security', 'owner', async (req, _res, ctx) => {
    const body = parse(z.object({ require2fa: z.boolean() }), req.body);
    // Turning it on without having it oneself would lock the owner out of their own organisation.
    if (body.require2fa && !ctx.account.twoFactor) throw new ApiError('two_factor_required', 'Turn on two-factor for your own account first');
    return db.transaction(async (tx) => {
      const [before] = await tx.select({ require2fa: tenants.require2fa }).from(tenants).where(eq(tenants.id, ctx.tenantId)).for('update');
      await tx.update(tenants).set({ require2fa: body.require2fa }).where(eq(tenants.id, ctx.tenantId));
      await audit(tx, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, action: 'tenant.require_2fa_changed', target: { type: 'tenant', id: ctx.tenantId }, summary: { before: before?.require2fa, after: body.require2fa } });
      return { require2fa: body.require2fa };
    });
  });
}
