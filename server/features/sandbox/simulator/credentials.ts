import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Sandbox WeChat credentials are derived, not stored: every app has a fixed sandbox AppID,
 * and its AppSecret is an HMAC under MASTER_KEY, so the mounted simulator can check a pair
 * on any instance without a registry, and nobody without MASTER_KEY can mint one.
 */
export function sandboxAppId(appId: string): string {
  return 'wx' + createHash('sha256').update('sandbox:' + appId).digest('hex').slice(0, 16);
}

export function sandboxSecret(masterKey: Buffer, sandboxWechatAppId: string): string {
  return createHmac('sha256', masterKey).update('sandbox-secret:' + sandboxWechatAppId).digest('hex').slice(0, 32);
}

export const SANDBOX_APPID_PATTERN = /^wx[0-9a-f]{16}$/;

export function isSandboxPair(masterKey: Buffer, appid: string, secret: string): boolean {
  if (!SANDBOX_APPID_PATTERN.test(appid)) return false;
  const want = Buffer.from(sandboxSecret(masterKey, appid));
  const got = Buffer.from(secret);
  return want.length === got.length && timingSafeEqual(want, got);
}
