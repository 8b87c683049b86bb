import { randomBytes } from 'node:crypto';

/** 128-bit random, base64url, 22 chars: safe as a WeChat scene ([A-Za-z0-9_-], ≤ 32). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** 256-bit random, held only by the browser that opened the session. */
export function newSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

export type IdPrefix =
  | 'app' | 'usr' | 'ten' | 'acc' | 'key' | 'sig' | 'evt' | 'ep' | 'msg' | 'dlv' | 'att' | 'inv' | 'inst' | 'req' | 'avt';

/** Type-prefixed ids (`app_…`, `usr_…`): 96 bits of randomness, readable in logs and URLs. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, (c) => (c === '-' ? 'x' : 'z'))}`;
}

export type KeyMode = 'test' | 'live';

/** API keys: `pk_test_…`, `sk_live_…`. The secret kind is shown once and stored hashed. */
export function newApiKey(kind: 'pk' | 'sk', mode: KeyMode): string {
  return `${kind}_${mode}_${randomBytes(24).toString('base64url')}`;
}

export function parseApiKey(key: string): { kind: 'pk' | 'sk'; mode: KeyMode } | null {
  const m = /^(pk|sk)_(test|live)_[A-Za-z0-9_-]{20,64}$/.exec(key);
  return m ? { kind: m[1] as 'pk' | 'sk', mode: m[2] as KeyMode } : null;
}

/** Two digits shown on both screens so the visitor can tell their own session from a lure. */
export function newMatchNumber(): string {
  return String(randomBytes(1)[0]! % 100).padStart(2, '0');
}
