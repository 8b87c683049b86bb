import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { and, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Core } from '../../core';
import type { DbOrTx, Tx } from '../../db/client';
import { signingKeys } from '../../db/schema/index';
import { decrypt, encrypt } from '../../lib/crypto';
import { newId } from '../../lib/ids';

/** What the JWKS publishes for one key: public parts only, by construction. */
export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

export interface ActiveKey {
  kid: string;
  privateKey: KeyObject;
}

export interface VerificationKey {
  kid: string;
  publicKey: KeyObject;
}

/**
 * How long a decrypted active key is trusted in process. Rotation on another instance is
 * picked up within this time; ROTATION_MARGIN_SECONDS must stay well above it so tokens
 * signed from a stale cache still find their key in the JWKS.
 */
const ACTIVE_CACHE_MS = 5_000;
/** Added to the token lifetime when a retired key's publication window is computed. */
export const ROTATION_MARGIN_SECONDS = 60;

export interface AppKeyOwner {
  id: string;
  tenantId: string;
}

export interface SigningKeyStore {
  /** The app's current signing key, created on first use. */
  activeKey(app: AppKeyOwner): Promise<ActiveKey>;
  /** Active key plus retired keys still inside their publication window, newest first. */
  publishedKeys(appId: string): Promise<PublicJwk[]>;
  /** A published key of this app by kid, or null (unknown, another app's, or past its window). */
  verificationKey(appId: string, kid: string): Promise<VerificationKey | null>;
  /** Retire the active key (kept published `publishSeconds`) and make a new one, atomically. */
  rotate(app: AppKeyOwner, publishSeconds: number): Promise<{ kid: string }>;
}

function toPublicJwk(publicKey: KeyObject, kid: string): PublicJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error('expected a P-256 public key');
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' };
}

/** Only these fields ever leave the row, whatever else the jsonb column might hold. */
function pickPublicJwk(stored: Record<string, string>, kid: string): PublicJwk {
  return { kty: 'EC', crv: 'P-256', x: String(stored.x), y: String(stored.y), kid, alg: 'ES256', use: 'sig' };
}

function keyContext(id: string): string {
  return `signing-key:${id}`;
}

export function createSigningKeyStore(core: Core): SigningKeyStore {
  const cache = new Map<string, { key: ActiveKey; loadedAt: number }>();

  /** Serialises key creation and rotation for one app across every instance. */
  async function lockApp(tx: Tx, appId: string): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`signing-keys:${appId}`}))`);
  }

  async function insertKey(tx: DbOrTx, app: AppKeyOwner): Promise<ActiveKey> {
    const kid = newId('sig');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await tx.insert(signingKeys).values({
      id: kid,
      tenantId: app.tenantId,
      appId: app.id,
      alg: 'ES256',
      publicJwk: { ...toPublicJwk(publicKey, kid) },
      privateKeyEnc: encrypt(core.config.masterKey, pem, keyContext(kid)),
    });
    return { kid, privateKey };
  }

  async function readActive(db: DbOrTx, appId: string): Promise<ActiveKey | null> {
    const [row] = await db
      .select({ id: signingKeys.id, privateKeyEnc: signingKeys.privateKeyEnc })
      .from(signingKeys)
      .where(and(eq(signingKeys.appId, appId), isNull(signingKeys.retiredAt)))
      .orderBy(desc(signingKeys.createdAt))
      .limit(1);
    if (!row) return null;
    const pem = decrypt(core.config.masterKey, row.privateKeyEnc, keyContext(row.id));
    return { kid: row.id, privateKey: createPrivateKey(pem) };
  }

  async function loadOrCreate(app: AppKeyOwner): Promise<ActiveKey> {
    const existing = await readActive(core.db, app.id);
    if (existing) return existing;
    // Two instances may both miss; the lock makes the second one find the first one's key.
    return core.db.transaction(async (tx) => {
      await lockApp(tx, app.id);
      return (await readActive(tx, app.id)) ?? (await insertKey(tx, app));
    });
  }

  return {
    async activeKey(app) {
      const hit = cache.get(app.id);
      if (hit && Date.now() - hit.loadedAt < ACTIVE_CACHE_MS) return hit.key;
      const key = await loadOrCreate(app);
      cache.set(app.id, { key, loadedAt: Date.now() });
      return key;
    },

    async publishedKeys(appId) {
      const rows = await core.db
        .select({ id: signingKeys.id, publicJwk: signingKeys.publicJwk })
        .from(signingKeys)
        .where(and(eq(signingKeys.appId, appId), or(isNull(signingKeys.retiredAt), gt(signingKeys.publishUntil, sql`now()`))))
        .orderBy(desc(signingKeys.createdAt));
      return rows.map((r) => pickPublicJwk(r.publicJwk, r.id));
    },

    async verificationKey(appId, kid) {
      const [row] = await core.db
        .select({ id: signingKeys.id, publicJwk: signingKeys.publicJwk })
        .from(signingKeys)
        .where(and(
          eq(signingKeys.id, kid),
          eq(signingKeys.appId, appId),
          or(isNull(signingKeys.retiredAt), gt(signingKeys.publishUntil, sql`now()`)),
        ))
        .limit(1);
      if (!row) return null;
      const jwk = pickPublicJwk(row.publicJwk, row.id);
      return { kid: row.id, publicKey: createPublicKey({ key: { ...jwk }, format: 'jwk' }) };
    },

    async rotate(app, publishSeconds) {
      const key = await core.db.transaction(async (tx) => {
        await lockApp(tx, app.id);
        await tx
          .update(signingKeys)
          .set({ retiredAt: sql`now()`, publishUntil: sql`now() + ${Math.ceil(publishSeconds)}::int * interval '1 second'` })
          .where(and(eq(signingKeys.appId, app.id), isNull(signingKeys.retiredAt)));
        return insertKey(tx, app);
      });
      cache.set(app.id, { key, loadedAt: Date.now() });
      return { kid: key.kid };
    },
  };
}
