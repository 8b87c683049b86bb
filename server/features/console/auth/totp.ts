import { randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import { decrypt, encrypt, sha256 } from '../../../lib/crypto';

export const RECOVERY_CODE_COUNT = 10;
const ISSUER = 'WeChat Scan Login';
/** One 30 s step either side: a phone clock a little off still works (RFC 6238 §5.2's advice). */
const TOLERANCE_SECONDS = 30;

const sealContext = (accountId: string) => `totp:${accountId}`;

export function newTotpSecret(masterKey: Buffer, accountId: string): { secret: string; sealed: string } {
  const secret = generateSecret();
  return { secret, sealed: encrypt(masterKey, secret, sealContext(accountId)) };
}

export function otpauthUri(secret: string, email: string): string {
  return generateURI({ issuer: ISSUER, label: email, secret });
}

/** The time step the code belongs to, or null. Steps up to `lastStep` were used already: refused. */
export async function checkTotp(masterKey: Buffer, accountId: string, sealed: string, code: string, lastStep: number | null): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const secret = decrypt(masterKey, sealed, sealContext(accountId));
  const r = await verify({ secret, token: code, epochTolerance: TOLERANCE_SECONDS, ...(lastStep !== null ? { afterTimeStep: lastStep } : {}) });
  return r.valid && 'timeStep' in r ? r.timeStep : null;
}

/** Ten codes of 10 base32 characters (50 bits each), shown once; only their hashes are kept. */
export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const b = randomBytes(10);
    const s = Array.from(b, (x) => alphabet[x % 32]).join('');
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

export function hashRecoveryCode(code: string): string {
  return sha256(code.toLowerCase().replace(/[\s-]/g, ''));
}
