import type { Request } from 'express';
import type { Db, DbOrTx, Tx } from '../../db/client';
import { auditEvents, memberships } from '../../db/schema/index';
import { eq } from 'drizzle-orm';
import { newId } from '../../lib/ids';

export type ActorType = 'account' | 'api_key' | 'operator' | 'system';

export interface Actor {
  type: ActorType;
  id?: string;
  email?: string;
  ip?: string;
}

export interface AuditEntry {
  tenantId: string;
  /** The app the target belongs to, so the app's secret key can read the event. */
  appId?: string | null;
  action: string;
  target: { type: string; id: string };
  /** Before/after values; anything whose name looks like a secret is dropped on the way in. */
  summary?: Record<string, unknown>;
}

// A key named like this never reaches the table, however a caller built the summary.
const SECRET_NAME = /secret|password|token|hash|private|^key$|totp|code/i;

export function withoutSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutSecrets);
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v).filter(([k]) => !SECRET_NAME.test(k)).map(([k, x]) => [k, withoutSecrets(x)]));
  }
  return v;
}

/** The signed-in person behind a console request. */
export function consoleActor(req: Request, account: { id: string; email: string }): Actor {
  return { type: 'account', id: account.id, email: account.email, ip: req.ip };
}

/**
 * Writes one audit row. Pass the transaction that makes the change: the row commits with it
 * or not at all, so the log never claims a change that rolled back, nor misses one.
 */
export async function audit(tx: DbOrTx, actor: Actor, e: AuditEntry): Promise<void> {
  await tx.insert(auditEvents).values({
    id: newId('aud'),
    tenantId: e.tenantId,
    appId: e.appId ?? null,
    actorType: actor.type,
    actorId: actor.id ?? null,
    actorEmail: actor.email ?? null,
    action: e.action,
    targetType: e.target.type,
    targetId: e.target.id,
    ip: actor.ip ?? null,
    summary: e.summary ? (withoutSecrets(e.summary) as Record<string, unknown>) : null,
  });
}

/**
 * An event about an account itself (sign-in, verification, password, two-factor) belongs to
 * every organisation the account is in: each one's owners see it in their own log.
 */
export async function auditAccount(tx: Tx | DbOrTx, actor: Actor, accountId: string, action: string, summary?: Record<string, unknown>): Promise<void> {
  const rows = await tx.select({ tenantId: memberships.tenantId }).from(memberships).where(eq(memberships.accountId, accountId));
  for (const { tenantId } of rows) await audit(tx, actor, { tenantId, action, target: { type: 'account', id: accountId }, summary });
}

/**
 * The one-line hook for a console route: the change and its audit row in one transaction.
 * `entry` may depend on the change's result (the id it created). A change made by another
 * feature's service that keeps its own transaction is recorded with `audit(db, …)` right
 * after it instead; see features/audit/README.md.
 */
export async function audited<T>(db: Db, actor: Actor, change: (tx: Tx) => Promise<T>, entry: AuditEntry | ((result: T) => AuditEntry)): Promise<T> {
  return db.transaction(async (tx) => {
    const result = await change(tx);
    await audit(tx, actor, typeof entry === 'function' ? entry(result) : entry);
    return result;
  });
}
