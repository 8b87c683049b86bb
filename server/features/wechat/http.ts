import { LOCAL, WechatError, type WechatApi } from './errors';

/**
 * One outbound call to WeChat (or the simulator). URLs carry access tokens and secrets, so
 * neither the URL nor the raw body ever goes into an error message.
 */
export async function wechatFetch(api: WechatApi, url: string, init: RequestInit & { timeoutMs: number }): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs), redirect: 'error' });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new WechatError(api, LOCAL.timeout, `no answer within ${init.timeoutMs} ms`);
    }
    throw new WechatError(api, LOCAL.network, `network error: ${(err as Error).message}`.slice(0, 200));
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new WechatError(api, LOCAL.http, `HTTP ${res.status}`);
  }
  return res;
}

/** A JSON answer, or WechatError. A present non-zero errcode is an error whatever else is there. */
export async function readWechatJson(api: WechatApi, res: Response): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') {
      throw new WechatError(api, LOCAL.timeout, 'answer body did not arrive in time');
    }
    throw new WechatError(api, LOCAL.badResponse, 'answer is not JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new WechatError(api, LOCAL.badResponse, 'answer is not a JSON object');
  const obj = body as Record<string, unknown>;
  if (typeof obj.errcode === 'number' && obj.errcode !== 0) {
    throw new WechatError(api, obj.errcode, typeof obj.errmsg === 'string' ? obj.errmsg.slice(0, 300) : '');
  }
  return obj;
}
