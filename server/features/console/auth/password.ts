import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt with OWASP's current parameters (N=2^17, r=8, p=1). One hash needs 128 MiB, above
 * Node's 32 MiB default `maxmem`, so the limit is raised; a small gate keeps concurrent
 * hashes from multiplying that memory under a burst of sign-ins.
 * Stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` so parameters can be raised later.
 */
const LOG_N = 17;
const R = 8;
const P = 1;
const KEYLEN = 32;
const MAX_CONCURRENT = 2;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 128 * 2 ** logN * r * 2 };
  return new Promise((ok, fail) => scrypt(password.normalize('NFKC'), salt, KEYLEN, opts, (err, key) => (err ? fail(err) : ok(key))));
}

let running = 0;
const waiting: Array<() => void> = [];

async function gated<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await gated(() => derive(password, salt, LOG_N, R, P));
  return ['scrypt', LOG_N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, logN, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !logN || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await gated(() => derive(password, Buffer.from(salt, 'base64url'), Number(logN), Number(r), Number(p)));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Checked against when the email is unknown, so a miss costs what a wrong password costs. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(12).toString('base64url'));
  return dummy;
}
