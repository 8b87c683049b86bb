import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import { ENV_VERSIONS } from '../../../../contract/constants.js';
import type { SimKv } from './kv';

/**
 * The simulated WeChat: the same request shapes, error codes and lifetimes as the real API,
 * so the one client we ship is exercised the same way in sandbox mode and in tests.
 * Time is read through `now()`, and stored records carry their own expiry, so a standalone
 * simulator can fast-forward its clock without waiting for Redis TTLs.
 */

export const SIM_APIS = ['stable_token', 'getwxacodeunlimit', 'jscode2session', 'generate_urllink', 'getuserphonenumber'] as const;
export type SimApi = (typeof SIM_APIS)[number];

export interface SimApp {
  secret: string;
  /** Published pages; null = every well-formed page counts as published. */
  pages: string[] | null;
}

export interface Fault {
  /** Only calls made for this AppID; omitted = every caller (standalone only). */
  appid?: string;
  api: SimApi;
  times: number;
  errcode?: number;
  errmsg?: string;
  httpStatus?: number;
  delayMs?: number;
}

export interface WxError {
  errcode: number;
  errmsg: string;
}

export type WxResult<T> = { ok: true; value: T } | { ok: false; error: WxError };

export interface EngineOptions {
  kv: SimKv;
  resolveApp(appid: string): Promise<SimApp | null>;
  /** Where the sandbox phone page lives; the QR encodes `${phoneBaseUrl()}/sandbox/phone?scene=…`. */
  phoneBaseUrl(): string;
  now(): number;
}

// WeChat's documented lifetimes and limits.
const TOKEN_TTL_MS = 7_200_000;
/** Normal mode hands out a fresh token once the current one has less than this left. */
const RENEW_BEFORE_MS = 300_000;
const FORCE_MIN_GAP_MS = 30_000;
const FORCE_PER_DAY = 20;
const CODE_TTL_MS = 300_000;
/** Redis keeps records a little longer than their simulated lifetime; expiry itself is checked against now(). */
const KEEP_MARGIN_MS = 60_000;
const FAULT_TTL_MS = 3_600_000;
/** Call counts are for tests and demos; they fade so stray AppIDs don't pile up in Redis. */
const STATS_TTL_MS = 86_400_000;

/** WeChat's scene charset: digits, letters and !#$&'()*+,/:;=?@-._~ */
export const SCENE_PATTERN = /^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$/;
/** generate_urllink's query: digits, letters and !#$&'()*+,/:;=?@-._~% (at most 1,024). */
const URL_LINK_QUERY_PATTERN = /^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~%]*$/;
const PAGE_PATTERN = /^[A-Za-z0-9_\-.]+(\/[A-Za-z0-9_\-.]+)*$/;

const err = (errcode: number, errmsg: string): { ok: false; error: WxError } => ({ ok: false, error: { errcode, errmsg } });
const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
const rid = () => randomBytes(4).toString('hex');
/** WeChat appends a request id to errmsg; clients must not match on the whole string. */
const msg = (text: string) => `${text} rid: ${rid()}`;

interface TokenRecord {
  appid: string;
  exp: number;
  /** Set when force_refresh replaced it: after this it is "not latest" (40001), not expired. */
  supersededAt?: number;
  /**
   * Every API answers 40001 for it while normal-mode stable_token keeps handing it back, as
   * WeChat sometimes does: only a force_refresh gets past it (see the client's withToken).
   */
  rejected?: boolean;
}

interface CodeRecord {
  appid: string;
  openid: string;
  unionid?: string;
  exp: number;
}

/** What the getPhoneNumber button's code stands for. `watermarkAppid` lets a test play a code minted for another mini-program. */
interface PhoneCodeRecord {
  appid: string;
  countryCode: string;
  purePhoneNumber: string;
  watermarkAppid: string;
  exp: number;
}

export interface PhoneChoice {
  countryCode: string;
  purePhoneNumber: string;
  watermarkAppid?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * The simulator's code image: a plain QR of the URL (deterministic, so tests can compare bytes).
 * PNG filter 2 ("Up") instead of adaptive: a third of the CPU for a code, which blocks the
 * event loop while it encodes; the image grows from ~3.5 to ~10 KB.
 */
export function drawCode(url: string, width: number): Promise<Buffer> {
  return QRCode.toBuffer(url, { type: 'png', width, margin: 2, errorCorrectionLevel: 'M', rendererOpts: { filterType: 2 } } as QRCode.QRCodeToBufferOptions);
}

export function createEngine(opts: EngineOptions) {
  const { kv, now } = opts;

  async function readToken(token: string): Promise<TokenRecord | null> {
    const raw = await kv.get(`tok:${token}`);
    return raw ? (JSON.parse(raw) as TokenRecord) : null;
  }

  async function writeToken(token: string, rec: TokenRecord): Promise<void> {
    await kv.set(`tok:${token}`, JSON.stringify(rec), Math.max(rec.exp - now(), 0) + KEEP_MARGIN_MS);
  }

  /** The token behind `access_token`, or WeChat's error for it. */
  async function checkToken(token: string | undefined): Promise<WxResult<TokenRecord>> {
    if (!token) return err(41001, msg('access_token missing'));
    const rec = await readToken(token);
    if (!rec || rec.rejected) return err(40001, msg('invalid credential, access_token is invalid or not latest'));
    if (rec.supersededAt !== undefined && now() >= rec.supersededAt) return err(40001, msg('invalid credential, access_token is invalid or not latest'));
    if (now() >= rec.exp) return err(42001, msg('access_token expired'));
    return ok(rec);
  }

  async function checkPair(appid: string | undefined, secret: string | undefined): Promise<WxResult<SimApp>> {
    if (!appid) return err(41002, msg('appid missing'));
    if (!secret) return err(41004, msg('appsecret missing'));
    const app = await opts.resolveApp(appid);
    if (!app) return err(40013, msg('invalid appid'));
    if (app.secret !== secret) return err(40125, msg('invalid appsecret'));
    return ok(app);
  }

  async function issueToken(appid: string, previous: string): Promise<string> {
    // Callers racing to replace the same token all get the one that won, as WeChat does.
    const candidate = randomBytes(48).toString('base64url');
    const slot = `next:${appid}:${previous}`;
    const token = (await kv.setNx(slot, candidate, TOKEN_TTL_MS)) ? candidate : ((await kv.get(slot)) ?? candidate);
    const rec = (await readToken(token)) ?? { appid, exp: now() + TOKEN_TTL_MS };
    await writeToken(token, rec);
    await kv.set(`cur:${appid}`, token, TOKEN_TTL_MS + KEEP_MARGIN_MS);
    return token;
  }

  return {
    async stableToken(body: Record<string, unknown>): Promise<WxResult<{ access_token: string; expires_in: number }>> {
      if (body.grant_type !== 'client_credential') return err(40002, msg('invalid grant_type'));
      const pair = await checkPair(str(body.appid), str(body.secret));
      if (!pair.ok) return pair;
      const appid = body.appid as string;
      const currentToken = await kv.get(`cur:${appid}`);
      const current = currentToken ? await readToken(currentToken) : null;

      if (body.force_refresh === true) {
        const last = Number((await kv.get(`force:last:${appid}`)) ?? 0);
        // WeChat's documented rule: a second force_refresh within 30 s "does not refresh" (no error).
        if (last && now() - last < FORCE_MIN_GAP_MS && currentToken && current) {
          return ok({ access_token: currentToken, expires_in: Math.floor((current.exp - now()) / 1000) });
        }
        // WeChat's day is Beijing's (UTC+8).
        const day = new Date(now() + 8 * 3_600_000).toISOString().slice(0, 10);
        if ((await kv.incr(`force:day:${appid}:${day}`, 86_400_000 + KEEP_MARGIN_MS)) > FORCE_PER_DAY) {
          return err(45009, msg('reach max api daily quota limit'));
        }
        await kv.set(`force:last:${appid}`, String(now()), FORCE_MIN_GAP_MS + KEEP_MARGIN_MS);
        // Documented: a forced refresh invalidates the previous token at once, whoever holds it.
        if (currentToken && current) await writeToken(currentToken, { ...current, supersededAt: now() });
        const token = await issueToken(appid, `force:${currentToken ?? 'none'}:${now()}`);
        return ok({ access_token: token, expires_in: TOKEN_TTL_MS / 1000 });
      }

      if (currentToken && current && current.exp - now() > RENEW_BEFORE_MS) {
        return ok({ access_token: currentToken, expires_in: Math.floor((current.exp - now()) / 1000) });
      }
      const token = await issueToken(appid, currentToken ?? 'none');
      const rec = await readToken(token);
      return ok({ access_token: token, expires_in: Math.floor(((rec?.exp ?? now() + TOKEN_TTL_MS) - now()) / 1000) });
    },

    /** The AppID a token belongs to (for fault scoping), whether or not it is still valid. */
    async tokenAppId(token: string | undefined): Promise<string | undefined> {
      return token ? (await readToken(token))?.appid : undefined;
    },

    async getwxacodeunlimit(token: string | undefined, body: Record<string, unknown>): Promise<WxResult<Buffer>> {
      const t = await checkToken(token);
      if (!t.ok) return t;
      const scene = body.scene;
      // WeChat answers a missing or empty scene like a too-long one (40169), a bad character with 40129.
      if (typeof scene !== 'string' || scene.length === 0 || scene.length > 32) return err(40169, msg('invalid length for scene, or the data is not json string'));
      if (!SCENE_PATTERN.test(scene)) return err(40129, msg('invalid scene'));
      // An empty page means the home page, as on WeChat.
      const page = body.page === '' ? undefined : body.page;
      if (page !== undefined) {
        if (typeof page !== 'string' || page.startsWith('/') || !PAGE_PATTERN.test(page)) return err(41030, msg('invalid page'));
        const app = await opts.resolveApp(t.value.appid);
        if (body.check_path !== false && app?.pages && !app.pages.includes(page)) return err(41030, msg('invalid page'));
      }
      const width = body.width ?? 430;
      if (typeof width !== 'number' || !Number.isInteger(width) || width < 280 || width > 1280) {
        return err(40097, msg('invalid args: width must be 280-1280'));
      }
      const env = body.env_version ?? 'release';
      if (typeof env !== 'string' || !(ENV_VERSIONS as readonly string[]).includes(env)) return err(40097, msg('invalid args: env_version'));
      const url = `${opts.phoneBaseUrl().replace(/\/+$/, '')}/sandbox/phone?scene=${encodeURIComponent(scene)}`;
      return ok(await drawCode(url, width));
    },

    async jscode2session(q: Record<string, unknown>): Promise<WxResult<{ openid: string; session_key: string; unionid?: string }>> {
      const appid = str(q.appid);
      const secret = str(q.secret);
      if (!appid) return err(41002, msg('appid missing'));
      if (!secret) return err(41004, msg('appsecret missing'));
      const code = str(q.js_code);
      if (!code) return err(41008, msg('missing code'));
      if (q.grant_type !== 'authorization_code') return err(40002, msg('invalid grant_type'));
      const pair = await checkPair(appid, secret);
      if (!pair.ok) return pair;
      const raw = await kv.get(`code:${code}`);
      const rec = raw ? (JSON.parse(raw) as CodeRecord) : null;
      if (!rec || rec.appid !== appid || now() >= rec.exp) return err(40029, msg('invalid code'));
      if (!(await kv.setNx(`used:${code}`, '1', CODE_TTL_MS + KEEP_MARGIN_MS))) return err(40163, msg('code been used'));
      return ok({
        session_key: randomBytes(16).toString('base64'),
        openid: rec.openid,
        ...(rec.unionid ? { unionid: rec.unionid } : {}),
      });
    },

    async generateUrlLink(token: string | undefined, body: Record<string, unknown>): Promise<WxResult<string>> {
      const t = await checkToken(token);
      if (!t.ok) return t;
      const path = body.path;
      if (path !== undefined && path !== '') {
        if (typeof path !== 'string' || path.startsWith('/') || !PAGE_PATTERN.test(path)) return err(40165, msg('invalid weapp pagepath'));
        const app = await opts.resolveApp(t.value.appid);
        if (app?.pages && !app.pages.includes(path)) return err(40165, msg('invalid weapp pagepath'));
      }
      const query = body.query ?? '';
      if (typeof query !== 'string' || query.length > 1024 || !URL_LINK_QUERY_PATTERN.test(query)) return err(40212, msg('invalid query'));
      const env = body.env_version ?? 'release';
      if (typeof env !== 'string' || !(ENV_VERSIONS as readonly string[]).includes(env)) return err(85402, msg('invalid env_version'));
      if (body.expire_type === 1) {
        const days = body.expire_interval;
        if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 30) return err(85401, msg('invalid expire_interval: 1 to 30 days'));
      }
      const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'a');
      return ok(`https://wxaurl.cn/${id}`);
    },

    /** Makes the AppID's current token one WeChat rejects (40001) yet still hands back in normal mode. */
    async rejectCurrentToken(appid: string): Promise<boolean> {
      const token = await kv.get(`cur:${appid}`);
      const rec = token ? await readToken(token) : null;
      if (!token || !rec) return false;
      await writeToken(token, { ...rec, rejected: true });
      return true;
    },

    /** What the phone's wx.login would return for this user of this mini-program. */
    async issueCode(appid: string, openid: string, unionid?: string): Promise<WxResult<string>> {
      if (!(await opts.resolveApp(appid))) return err(40013, msg('invalid appid'));
      const code = randomBytes(24).toString('base64url');
      const rec: CodeRecord = { appid, openid, ...(unionid ? { unionid } : {}), exp: now() + CODE_TTL_MS };
      await kv.set(`code:${code}`, JSON.stringify(rec), CODE_TTL_MS + KEEP_MARGIN_MS);
      return ok(code);
    },

    /**
     * getuserphonenumber: a code from the getPhoneNumber button, once, for 5 minutes, only for the
     * mini-program it was issued to. WeChat documents 40029 for any bad code (reused ones included).
     */
    async getuserphonenumber(token: string | undefined, body: Record<string, unknown>): Promise<WxResult<{ phoneNumber: string; purePhoneNumber: string; countryCode: string; watermark: { timestamp: number; appid: string } }>> {
      const t = await checkToken(token);
      if (!t.ok) return t;
      const code = str(body.code);
      if (!code) return err(40029, msg('invalid code'));
      const raw = await kv.get(`pcode:${code}`);
      const rec = raw ? (JSON.parse(raw) as PhoneCodeRecord) : null;
      if (!rec || rec.appid !== t.value.appid || now() >= rec.exp) return err(40029, msg('invalid code'));
      if (!(await kv.setNx(`pused:${code}`, '1', CODE_TTL_MS + KEEP_MARGIN_MS))) return err(40029, msg('invalid code'));
      // Mainland numbers come without the country code in phoneNumber; others carry it.
      const phoneNumber = rec.countryCode === '86' ? rec.purePhoneNumber : `+${rec.countryCode}${rec.purePhoneNumber}`;
      return ok({
        phoneNumber, purePhoneNumber: rec.purePhoneNumber, countryCode: rec.countryCode,
        watermark: { timestamp: Math.floor(now() / 1000), appid: rec.watermarkAppid },
      });
    },

    /** What the getPhoneNumber button on the simulated phone hands the page when the visitor agrees. */
    async issuePhoneCode(appid: string, choice: PhoneChoice): Promise<WxResult<string>> {
      if (!(await opts.resolveApp(appid))) return err(40013, msg('invalid appid'));
      const code = randomBytes(32).toString('hex');
      const rec: PhoneCodeRecord = { appid, countryCode: choice.countryCode, purePhoneNumber: choice.purePhoneNumber, watermarkAppid: choice.watermarkAppid ?? appid, exp: now() + CODE_TTL_MS };
      await kv.set(`pcode:${code}`, JSON.stringify(rec), CODE_TTL_MS + KEEP_MARGIN_MS);
      return ok(code);
    },

    async inject(fault: Fault): Promise<void> {
      const scope = fault.appid ?? '*';
      await kv.del(`faultn:${scope}:${fault.api}`);
      await kv.set(`fault:${scope}:${fault.api}`, JSON.stringify(fault), FAULT_TTL_MS);
    },

    async clearFaults(appid?: string): Promise<void> {
      const scope = appid ?? '*';
      await kv.del(...SIM_APIS.flatMap((api) => [`fault:${scope}:${api}`, `faultn:${scope}:${api}`]));
    },

    /** Consumes one use of a fault aimed at this call, if any. */
    async takeFault(api: SimApi, appid: string | undefined): Promise<Fault | null> {
      const scopes = appid ? [appid, '*'] : ['*'];
      // One read for both scopes: almost every call finds no fault at all.
      const found = await kv.mget(scopes.map((scope) => `fault:${scope}:${api}`));
      for (const [i, scope] of scopes.entries()) {
        const raw = found[i];
        if (!raw) continue;
        const fault = JSON.parse(raw) as Fault;
        if ((await kv.incr(`faultn:${scope}:${api}`, FAULT_TTL_MS)) <= fault.times) return fault;
        await kv.del(`fault:${scope}:${api}`, `faultn:${scope}:${api}`);
      }
      return null;
    },

    async count(api: SimApi, appid: string | undefined): Promise<void> {
      const own = appid && (await opts.resolveApp(appid)) ? [`stats:${appid}`] : [];
      await kv.hincr(['stats:*', ...own], api, STATS_TTL_MS);
    },

    async stats(appid?: string): Promise<Record<SimApi, number>> {
      const h = await kv.hgetall(`stats:${appid ?? '*'}`);
      return Object.fromEntries(SIM_APIS.map((api) => [api, Number(h[api] ?? 0)])) as Record<SimApi, number>;
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;
