import { randomFillSync, randomInt } from 'node:crypto';
import type { Mode } from '../../contract/common.js';

/**
 * Random bytes for ids come from a pooled buffer refilled 4 KB at a time: every login makes
 * several ids, and one `randomBytes` call per id (a native call and a buffer each) showed up
 * in the login profile. Each byte is handed out once; only base64url copies leave this module.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE;

export function randomBase64url(bytes: number): string {
  if (bytes > POOL_SIZE) throw new RangeError('too many random bytes for the pool');
  if (used + bytes > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return out;
}

/** 128-bit random, base64url, 22 chars: safe as a WeChat scene ([A-Za-z0-9_-], ≤ 32). */
export function newSessionId(): string {
  return randomBase64url(16);
}

/** 256-bit random, held only by the browser that opened the session. */
export function newSessionSecret(): string {
  return randomBase64url(32);
}

export type IdPrefix =
  | 'app' | 'usr' | 'ten' | 'acc' | 'key' | 'sig' | 'evt' | 'ep' | 'msg' | 'dlv' | 'att' | 'inv' | 'inst' | 'req' | 'avt' | 'cli' | 'aud';

/** Type-prefixed ids (`app_…`, `usr_…`): 96 bits of randomness, readable in logs and URLs. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase64url(12).replace(/[-_]/g, (c) => (c === '-' ? 'x' : 'z'))}`;
}

/** Which side of an app a key, token, user or webhook belongs to (the contract's Mode). */
export type KeyMode = Mode;

/** API keys: `pk_test_…`, `sk_live_…`. The secret kind is shown once and stored hashed. */
export function newApiKey(kind: 'pk' | 'sk', mode: KeyMode): string {
  return `${kind}_${mode}_${randomBase64url(24)}`;
}

export function parseApiKey(key: string): { kind: 'pk' | 'sk'; mode: KeyMode } | null {
  const m = /^(pk|sk)_(test|live)_[A-Za-z0-9_-]{20,64}$/.exec(key);
  return m ? { kind: m[1] as 'pk' | 'sk', mode: m[2] as KeyMode } : null;
}

/** Two digits shown on both screens so the visitor can tell their own session from a lure (uniform: no modulo bias). */
export function newMatchNumber(): string {
  return String(randomInt(100)).padStart(2, '0');
}
