import { ApiError } from '../../lib/errors';

/**
 * Every failure talking to WeChat becomes a WechatError where the client meets it: an ApiError
 * (`wechat_error`, 502) whose message is the `plain` words a tenant can act on, with the raw
 * errcode/errmsg for logs and support. It crosses the BullMQ job boundary as JSON in the job's
 * outcome (see jobs.ts) and is rebuilt by the waiting caller.
 */

export type WechatApi = 'stable_token' | 'getwxacodeunlimit' | 'jscode2session' | 'generate_urllink' | 'getuserphonenumber' | 'credentials' | 'queue';

/** Codes of our own for failures WeChat never reports itself (negative, below WeChat's -1). */
export const LOCAL = {
  timeout: -1001,
  http: -1002,
  network: -1003,
  badResponse: -1004,
  noCredentials: -1005,
  appNotFound: -1006,
  /** getuserphonenumber vouched for a number given to another mini-program. */
  foreignWatermark: -1007,
  /** Our per-AppID limiter; same number as WeChat's own quota error so callers treat them alike. */
  quota: 45009,
} as const;

const PLAIN: Record<number, string> = {
  [-1]: 'WeChat is busy right now; try again in a moment',
  40001: 'WeChat rejected the access token; check the AppSecret and that nothing else is resetting it',
  40002: 'WeChat rejected the request (grant type)',
  40013: 'WeChat does not recognise this AppID: check the mini-program AppID in the app settings',
  40125: 'WeChat rejected the AppSecret: copy it again from mp.weixin.qq.com (Development > Development settings)',
  40164: "This server's IP is not on the mini-program's IP whitelist: add it at mp.weixin.qq.com (Development > Development settings)",
  40029: 'The login code is invalid or expired; open the page again in WeChat',
  40163: 'The login code was already used; open the page again in WeChat',
  40226: 'WeChat blocked this user as risky (high-risk account)',
  40097: 'WeChat rejected the request parameters (width or env_version)',
  40169: 'The scene is empty or too long for WeChat (1 to 32 characters)',
  40129: 'The scene has characters WeChat does not accept',
  40212: 'WeChat rejected the URL Link query (at most 1,024 characters of a limited set)',
  85401: 'WeChat rejected the URL Link validity (1 to 30 days)',
  41030: 'The page does not exist in the published mini-program: publish it, fix the page path, or turn off check_path for trial/develop versions',
  40165: 'The page does not exist in the published mini-program (URL Link)',
  42001: 'The access token expired',
  45009: 'WeChat quota reached for this AppID (5,000 codes per minute, or the daily limit); wait and retry',
  45011: 'Too many login requests for this AppID; wait a moment and retry',
  47001: 'WeChat could not read the request body',
  85402: 'The requested mini-program version (env_version) is not available',
  [LOCAL.timeout]: 'WeChat did not answer in time; try again',
  [LOCAL.http]: 'WeChat answered with a server error; try again',
  [LOCAL.network]: 'Could not reach WeChat; check this server\'s network',
  [LOCAL.badResponse]: 'WeChat sent an answer we could not read',
  [LOCAL.noCredentials]: 'This app has no WeChat AppID and AppSecret for live mode yet: add them in the console',
  [LOCAL.appNotFound]: 'This app does not exist any more',
  [LOCAL.foreignWatermark]: 'This phone number was given to another mini-program, not this site; tap the phone number button again',
};

/** The phone-number code shares errcodes with the login code but not their meaning for the visitor. */
const PHONE_PLAIN: Record<number, string> = {
  40029: 'WeChat did not accept the phone number code (expired or already used); tap the phone number button again',
  45011: 'Too many phone number requests right now; wait a minute and try again',
  [-1]: 'WeChat is busy and could not give your phone number; try again in a moment',
};

export function plainWords(errcode: number, errmsg: string, api?: WechatApi): string {
  return (api === 'getuserphonenumber' ? PHONE_PLAIN[errcode] : undefined) ?? PLAIN[errcode] ?? `WeChat error ${errcode}: ${errmsg.replace(/ rid: \S+$/, '')}`;
}

export class WechatError extends ApiError {
  readonly plain: string;
  constructor(
    readonly api: WechatApi,
    readonly errcode: number,
    readonly errmsg: string,
    plain?: string,
  ) {
    const words = plain ?? plainWords(errcode, errmsg, api);
    super('wechat_error', words, { errcode });
    this.name = 'WechatError';
    this.plain = words;
  }

  /** Worth another try later (WeChat busy, our timeouts, 5xx); not a configuration problem. */
  get transient(): boolean {
    return this.errcode === -1 || this.errcode === LOCAL.timeout || this.errcode === LOCAL.http || this.errcode === LOCAL.network;
  }

  toJSON(): { api: WechatApi; errcode: number; errmsg: string; plain: string } {
    return { api: this.api, errcode: this.errcode, errmsg: this.errmsg, plain: this.plain };
  }
}

const MARK = 'WechatError:';

/** The failed job's reason in BullMQ (its UI, its metrics): the error as JSON after a marker. */
export function serializeWechatError(e: WechatError): string {
  return MARK + JSON.stringify(e.toJSON());
}
