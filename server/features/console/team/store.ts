import { randomBytes } from 'node:crypto';
import { and, asc, count, desc, eq, gt, isNull } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../../../db/client';
import { accounts, invitations, memberships, tenants } from '../../../db/schema/index';
import { sha256 } from '../../../lib/crypto';
import { ApiError } from '../../../lib/errors';
import { newId } from '../../../lib/ids';
import type { Role } from '../auth/guard';

export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

export async function createTenant(db: DbOrTx, accountId: string, name: string): Promise<{ id: string; name: string }> {
  const id = newId('ten');
  await db.insert(tenants).values({ id, name });
  await db.insert(memberships).values({ tenantId: id, accountId, role: 'owner' });
  return { id, name };
}

export async function tenantsOf(db: Db, accountId: string) {
  return db
    .select({ id: tenants.id, name: tenants.name, plan: tenants.plan, role: memberships.role })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(eq(memberships.accountId, accountId))
    .orderBy(asc(memberships.createdAt));
}

export async function getTenant(db: Db, tenantId: string) {
  const [t] = await db.select({ id: tenants.id, name: tenants.name, plan: tenants.plan, createdAt: tenants.createdAt }).from(tenants).where(eq(tenants.id, tenantId));
  if (!t) throw new ApiError('not_found', 'No such organisation');
  return t;
}

export async function renameTenant(db: Db, tenantId: string, name: string): Promise<void> {
  await db.update(tenants).set({ name }).where(eq(tenants.id, tenantId));
}

export async function listMembers(db: Db, tenantId: string) {
  return db
    .select({ accountId: accounts.id, email: accounts.email, name: accounts.name, role: memberships.role, joinedAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(eq(memberships.tenantId, tenantId))
    .orderBy(asc(memberships.createdAt));
}

async function ownerCount(db: DbOrTx, tenantId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(memberships).where(and(eq(memberships.tenantId, tenantId), eq(memberships.role, 'owner')));
  return r?.n ?? 0;
}

export async function memberRole(db: DbOrTx, tenantId: string, accountId: string): Promise<Role> {
  const [m] = await db.select({ role: memberships.role }).from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.accountId, accountId)));
  if (!m) throw new ApiError('not_found', 'No such member');
  return m.role;
}

const LAST_OWNER = 'An organisation needs at least one owner; make someone else owner first';

/**
 * Runs a change of an organisation's owners with the tenant's row locked, so changes to one
 * organisation's members happen one after another. Without it, two owners demoting each
 * other at the same moment both count two owners and leave none. Inside the lock the acting
 * person must still be an owner: a request authorised a moment ago may have lost that since.
 */
async function withOwnersLocked<T>(db: Db, tenantId: string, actorId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for('update');
    const actor = await memberRole(tx, tenantId, actorId).catch(() => null);
    if (actor !== 'owner') throw new ApiError('forbidden', 'Only an owner can do this');
    return fn(tx);
  });
}

/** An organisation always keeps at least one owner, so it can't be orphaned by accident. */
export async function changeRole(db: Db, tenantId: string, actorId: string, accountId: string, role: Role): Promise<void> {
  await withOwnersLocked(db, tenantId, actorId, async (tx) => {
    const current = await memberRole(tx, tenantId, accountId);
    if (current === 'owner' && role !== 'owner' && (await ownerCount(tx, tenantId)) <= 1) throw new ApiError('conflict', LAST_OWNER);
    await tx.update(memberships).set({ role }).where(and(eq(memberships.tenantId, tenantId), eq(memberships.accountId, accountId)));
  });
}

export async function removeMember(db: Db, tenantId: string, actorId: string, accountId: string): Promise<void> {
  await withOwnersLocked(db, tenantId, actorId, async (tx) => {
    const current = await memberRole(tx, tenantId, accountId);
    if (current === 'owner' && (await ownerCount(tx, tenantId)) <= 1) throw new ApiError('conflict', LAST_OWNER);
    await tx.delete(memberships).where(and(eq(memberships.tenantId, tenantId), eq(memberships.accountId, accountId)));
  });
}

export async function createInvitation(db: Db, tenantId: string, createdBy: string, role: Role) {
  const token = randomBytes(24).toString('base64url');
  const id = newId('inv');
  const expiresAt = new Date(Date.now() + INVITE_TTL_MS);
  await db.insert(invitations).values({ id, tenantId, tokenHash: sha256(token), role, createdBy, expiresAt });
  return { id, token, role, expiresAt };
}

export async function listInvitations(db: Db, tenantId: string) {
  return db
    .select({ id: invitations.id, role: invitations.role, expiresAt: invitations.expiresAt, createdAt: invitations.createdAt, createdBy: accounts.email })
    .from(invitations)
    .leftJoin(accounts, eq(accounts.id, invitations.createdBy))
    .where(and(eq(invitations.tenantId, tenantId), isNull(invitations.acceptedAt), gt(invitations.expiresAt, new Date())))
    .orderBy(desc(invitations.createdAt));
}

export async function revokeInvitation(db: Db, tenantId: string, id: string): Promise<void> {
  const r = await db.delete(invitations).where(and(eq(invitations.tenantId, tenantId), eq(invitations.id, id), isNull(invitations.acceptedAt))).returning({ id: invitations.id });
  if (!r.length) throw new ApiError('not_found', 'No such invitation');
}

/**
 * What an invitation link offers, for the page that asks the person to accept it: the
 * organisation, the role and who sent it. Only an open invitation answers.
 */
export async function previewInvitation(db: Db, token: string): Promise<{ tenant: { name: string }; role: Role; invitedBy: string | null; expiresAt: Date }> {
  const [row] = await db
    .select({ tenantName: tenants.name, role: invitations.role, invitedBy: accounts.email, expiresAt: invitations.expiresAt })
    .from(invitations)
    .innerJoin(tenants, eq(tenants.id, invitations.tenantId))
    .leftJoin(accounts, eq(accounts.id, invitations.createdBy))
    .where(and(eq(invitations.tokenHash, sha256(token)), isNull(invitations.acceptedAt), gt(invitations.expiresAt, new Date())));
  if (!row) throw new ApiError('not_found', 'This invitation link is invalid, expired or already used; ask for a new one');
  return { tenant: { name: row.tenantName }, role: row.role, invitedBy: row.invitedBy, expiresAt: row.expiresAt };
}

/** One use: the update only matches an unaccepted, unexpired row, so two accepts can't both win. */
export async function acceptInvitation(db: DbOrTx, token: string, accountId: string): Promise<{ tenantId: string; role: Role }> {
  return db.transaction(async (tx) => {
    const [inv] = await tx.update(invitations)
      .set({ acceptedAt: new Date(), acceptedBy: accountId })
      .where(and(eq(invitations.tokenHash, sha256(token)), isNull(invitations.acceptedAt), gt(invitations.expiresAt, new Date())))
      .returning({ tenantId: invitations.tenantId, role: invitations.role });
    if (!inv) throw new ApiError('not_found', 'This invitation link is invalid, expired or already used; ask for a new one');
    const [existing] = await tx.select({ role: memberships.role }).from(memberships)
      .where(and(eq(memberships.tenantId, inv.tenantId), eq(memberships.accountId, accountId)));
    if (existing) return { tenantId: inv.tenantId, role: existing.role };
    await tx.insert(memberships).values({ tenantId: inv.tenantId, accountId, role: inv.role });
    return inv;
  });
}
