import { Router } from 'express';
import type { Core } from '../../core';
import { ApiError } from '../../lib/errors';
import type { AppsStore } from '../apps/store';
import type { SessionBus } from './bus';
import { SESSION_ID } from './frames';
import type { LinkCodePort, WechatPort } from './ports';
import type { SessionService } from './service';

type Image = { contentType: string; body: Buffer };

/** WeChat's "quota reached", which our own per-AppID limiter answers too (wechat/errors.ts). */
const QUOTA_ERRCODE = 45009;

/**
 * The code image of a pending session: for link-style apps an ordinary QR code drawn here
 * (DESIGN §11), otherwise made by WeChat (or the sandbox simulator) once per session. A
 * session's image never changes, so its id is a strong ETag and a revalidation costs no drawing.
 */
export function qrRoutes(deps: { core: Core; service: SessionService; bus: SessionBus; apps: AppsStore; wechat: WechatPort; linkCodes: LinkCodePort }): Router {
  const { core, service, bus, apps, wechat, linkCodes } = deps;
  const log = core.logger.child({ feature: 'sessions' });
  const r = Router();
  const qrImages = createQrCache(core);

  r.get('/v1/sessions/:id/qr', async (req, res) => {
    const id = String(req.params.id);
    const s = SESSION_ID.test(id) ? await service.get(id) : null;
    if (!s || s.state !== 'pending') throw new ApiError('session_not_found', 'This code is no longer waiting to be scanned');
    const app = await apps.getApp(s.appId);
    if (!app) throw new ApiError('session_not_found', 'This site no longer exists');
    const etag = `"${s.id}.${app.codeStyle}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', `private, max-age=${Math.max(0, Math.floor((s.expiresAt - Date.now()) / 1000))}`);
    if (req.get('if-none-match') === etag) {
      res.status(304).end();
      return;
    }
    const image = app.codeStyle === 'link' ? await linkCodes.draw(s.appId, s.id) : await qrImages.get(s.id, s.expiresAt - Date.now(), () =>
      wechat.getCode({ appId: s.appId, mode: s.mode }, { scene: s.id, page: app.mpPage, checkPath: app.checkPath, envVersion: app.envVersion }),
    ).catch(async (err: unknown) => {
      // A broken <img> tells the page nothing; the socket can say why in plain words.
      // Over the AppID's code quota (ours or WeChat's, both 45009), or no worker free to ask
      // WeChat in time (503), is a crowd, not a fault: the element asks again on its own,
      // backing off (DESIGN §11).
      const quota = err instanceof ApiError && (err.details?.errcode === QUOTA_ERRCODE || err.code === 'unavailable');
      if (err instanceof ApiError && (err.code === 'wechat_error' || quota)) {
        const published = quota ? bus.publish(s.holder, s.id, 'refused', `codes_busy ${err.message}`) : bus.publish(s.holder, s.id, 'failed', err.message);
        await published.catch((e) => log.warn({ err: e }, 'code failure not published'));
      }
      throw err;
    });
    res.setHeader('Content-Type', image.contentType);
    res.send(image.body);
  });

  return r;
}

/**
 * One WeChat call per code image however often the page asks: single-flight in this process,
 * and cached in Redis for the session's life so any instance can serve it.
 */
function createQrCache(core: Core) {
  const inflight = new Map<string, Promise<Image>>();
  const keyOf = (id: string) => core.key('qr', `{${id}}`);
  async function load(id: string, ttlMs: number, make: () => Promise<Image>): Promise<Image> {
    const cached = await core.redis.client.hgetallBuffer(keyOf(id));
    if (cached.body && cached.type) return { contentType: cached.type.toString(), body: cached.body };
    const image = await make();
    await core.redis.client.multi().hset(keyOf(id), { type: image.contentType, body: image.body }).pexpire(keyOf(id), Math.max(1000, ttlMs)).exec();
    return image;
  }
  return {
    get(id: string, ttlMs: number, make: () => Promise<Image>): Promise<Image> {
      let p = inflight.get(id);
      if (!p) {
        p = load(id, ttlMs, make).finally(() => inflight.delete(id));
        inflight.set(id, p);
      }
      return p;
    },
  };
}
