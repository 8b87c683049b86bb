import type { WechatCredentials } from './token-cache';

/**
 * What the wechat feature needs from the sandbox (test mode), declared here and satisfied by
 * the sandbox feature in main.ts: the simulator stands in for WeChat, through the same client.
 */
export interface SandboxPort {
  /** The sandbox WeChat AppID of one of our apps. */
  appIdFor(appId: string): string;
  /** Where test-mode calls go (read at call time: the port is only known after listen), and with which pair. */
  credentials(appId: string): { base: string; creds: WechatCredentials };
  /** What wx.login on the simulated phone returns for this user; WeChat's error when it refuses. */
  phoneCode(appId: string, openid: string): Promise<{ ok: true; code: string } | { ok: false; errcode: number; errmsg: string }>;
}
