import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { endUserPhones } from '../../db/schema/index';
import { decrypt, encrypt } from '../../lib/crypto';
import type { KeyMode } from '../../lib/ids';

/** Whose number: a visitor of one app in one mode, known by openid before their first login. */
export interface PhoneOwner {
  tenantId: string;
  appId: string;
  mode: KeyMode;
  openid: string;
}

export interface StoredPhone {
  phoneNumber: string;
  verifiedAt: Date;
}

/** Bound as additional data: a sealed number copied onto another visitor's row won't open. */
const phoneContext = (o: Omit<PhoneOwner, 'tenantId'>) => `phone:${o.appId}:${o.mode}:${o.openid}`;

export interface PhoneStore {
  save(owner: PhoneOwner, phoneNumber: string, verifiedAt: Date): Promise<void>;
  read(owner: PhoneOwner): Promise<StoredPhone | null>;
  /** Erasure: the number goes with the end user. */
  remove(owner: PhoneOwner): Promise<void>;
}

/** Numbers at rest are only ever AES-256-GCM under MASTER_KEY, like AppSecrets. */
export function createPhoneStore(db: Db, masterKey: Buffer): PhoneStore {
  const own = (o: PhoneOwner) => and(eq(endUserPhones.tenantId, o.tenantId), eq(endUserPhones.appId, o.appId), eq(endUserPhones.mode, o.mode), eq(endUserPhones.openid, o.openid));

  return {
    async save(owner, phoneNumber, verifiedAt) {
      const phoneNumberEnc = encrypt(masterKey, phoneNumber, phoneContext(owner));
      await db.insert(endUserPhones)
        .values({ ...owner, phoneNumberEnc, verifiedAt })
        .onConflictDoUpdate({ target: [endUserPhones.appId, endUserPhones.mode, endUserPhones.openid], set: { phoneNumberEnc, verifiedAt } });
    },

    async read(owner) {
      const [row] = await db.select({ enc: endUserPhones.phoneNumberEnc, verifiedAt: endUserPhones.verifiedAt }).from(endUserPhones).where(own(owner)).limit(1);
      return row ? { phoneNumber: decrypt(masterKey, row.enc, phoneContext(owner)), verifiedAt: row.verifiedAt } : null;
    },

    async remove(owner) {
      await db.delete(endUserPhones).where(own(owner));
    },
  };
}
