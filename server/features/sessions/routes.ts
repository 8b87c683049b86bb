import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { answerBody, confirmBody, eventsQuery, sandboxOpenidSchema, sceneSchema, scanBody, testScanBody } from '../../../contract/sessions.js';
import type { Core } from '../../core';
import { ApiError, ERROR_STATUS, errorBody } from '../../lib/errors';
import { parse } from '../../lib/http';
import type { AppsStore } from '../apps/store';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { SessionBus } from './bus';
import { describeClient, normaliseIp } from './client-info';
import type { Gate } from './gate';
import type { WechatPort } from './ports';
import { SESSION_ID, type Frame, type SessionService } from './service';

const LONG_POLL_MS = 25_000;
const json = express.json({ limit: '4kb' });


/** The state name a frame stands for, to compare with the poller's `after`. */
function stateOf(frame: Frame): string {
  return frame.type === 'session' ? 'pending' : frame.type;
}

function bearer(req: Request): string {
  const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (!m) throw new ApiError('unauthorized', 'Send the session secret as `Authorization: Bearer …`');
  return m[1]!;
}

/**
 * Polling fallback (same frames as the socket), the code image, the mini-program API, the
 * test helpers, and the sandbox phone's code source.
 */
export function sessionRoutes(deps: { core: Core; gate: Gate; service: SessionService; bus: SessionBus; apps: AppsStore; wechat: WechatPort }): Router {
  const { core, gate, service, bus, apps, wechat } = deps;
  const r = Router();
  const qrImages = createQrCache(core);

  // Browsers on tenant sites call the polling API cross-origin. The key route reflects only
  // allowed origins; the events route is authorised by the session secret, not by origin.
  r.use('/v1/sessions', (req, res, next) => {
    const origin = req.get('origin');
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type');
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  });

  r.post('/v1/sessions', async (req, res) => {
    const admission = await gate(typeof req.query.key === 'string' ? req.query.key : null, req.get('origin'), normaliseIp(req.ip));
    if (!admission.ok) {
      res.status(ERROR_STATUS[admission.refusal.code]).json(errorBody(admission.refusal.code, admission.refusal.message, String(res.locals.requestId)));
      return;
    }
    const frame = await service.open(admission.app, admission.mode, {
      origin: req.get('origin') ?? '', ...describeClient(req.get('user-agent')), ip: normaliseIp(req.ip),
    });
    res.status(201).json(frame);
  });

  r.get('/v1/sessions/:id/events', async (req, res) => {
    const secret = bearer(req);
    const id = String(req.params.id);
    const { after } = parse(eventsQuery, req.query, 'query');
    const first = await service.attach(id, secret);
    const seen = after === 'session' ? 'pending' : after;
    if (!seen || stateOf(first.frame) !== seen || !first.session || first.frame.type === 'success' || first.frame.type === 'error') {
      return void res.json(first.frame);
    }
    // Nothing new yet: wait for an event routed here (attach made this instance the holder),
    // for expiry, or for the long-poll window to close, then answer the state as it is then.
    const session = first.session;
    await new Promise<void>((done) => {
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        unlisten();
        clearTimeout(window);
        clearTimeout(expiry);
        done();
      };
      const unlisten = bus.listen(id, finish);
      const window = setTimeout(finish, LONG_POLL_MS);
      const expiry = setTimeout(() => void service.expire(id).finally(finish), Math.max(0, session.expiresAt - Date.now()) + 20);
      res.on('close', finish);
    });
    if (res.destroyed) return;
    res.json((await service.attach(id, secret)).frame);
  });

  r.get('/v1/sessions/:id/qr', async (req, res) => {
    const id = String(req.params.id);
    const s = SESSION_ID.test(id) ? await service.get(id) : null;
    if (!s || s.state !== 'pending') throw new ApiError('session_not_found', 'This code is no longer waiting to be scanned');
    const app = await apps.getApp(s.appId);
    if (!app) throw new ApiError('session_not_found', 'This site no longer exists');
    const image = await qrImages.get(s.id, s.expiresAt - Date.now(), () =>
      wechat.getCode({ appId: s.appId, mode: s.mode }, { scene: s.id, page: app.mpPage, checkPath: app.checkPath, envVersion: app.envVersion }),
    ).catch(async (err: unknown) => {
      // A broken <img> tells the page nothing; the socket can say why in plain words.
      if (err instanceof ApiError && err.code === 'wechat_error') await bus.publish(s.holder, s.id, 'failed', err.message).catch(() => {});
      throw err;
    });
    res.setHeader('Content-Type', image.contentType);
    res.setHeader('Cache-Control', `private, max-age=${Math.max(0, Math.floor((s.expiresAt - Date.now()) / 1000))}`);
    res.send(image.body);
  });

  r.post('/v1/mp/scan', json, async (req, res) => {
    const body = parse(scanBody, req.body);
    res.json(await service.scan(body.scene, body.code));
  });
  r.post('/v1/mp/confirm', json, async (req, res) => {
    const body = parse(confirmBody, req.body);
    // The page only ever sends what POST /v1/mp/avatar answered. Any other URL would become the
    // token's `picture` and an <img> on the tenant's site and console: a tracker or a GET-CSRF.
    const avatar = body.profile?.avatarUrl;
    if (avatar !== undefined && !(avatar.startsWith(`${core.config.publicUrl}/v1/avatars/`) && /\/v1\/avatars\/avt_[A-Za-z0-9]{16}$/.test(avatar))) {
      throw new ApiError('bad_request', 'body.profile.avatarUrl: must be the URL POST /v1/mp/avatar returned');
    }
    await service.confirm(body.scene, body.ticket, body.profile ?? {});
    res.json({ ok: true });
  });
  r.post('/v1/mp/cancel', json, async (req, res) => {
    const body = parse(answerBody, req.body);
    await service.cancel(body.scene, body.ticket);
    res.json({ ok: true });
  });

  r.post('/v1/test_helpers/sessions/:id/scan', requireSecretKey(apps), json, async (req, res) => {
    const auth = secretKeyAuth(res);
    if (auth.mode !== 'test') throw new ApiError('live_mode_forbidden', 'Test helpers need a test-mode secret key (sk_test_…)');
    const body = parse(testScanBody, req.body ?? {});
    const id = String(req.params.id);
    const s = SESSION_ID.test(id) ? await service.get(id) : null;
    // Another app's session is as unknown to this key as a session that never existed.
    if (!s || s.appId !== auth.app.id || s.mode !== 'test') throw new ApiError('session_not_found', 'No session with this id for this app');
    const openid = body.openid ?? `o_test_${auth.app.id.slice(4, 16)}`;
    const code = await service.sandboxCode(id, openid);
    res.json(await service.scan(id, code));
  });

  r.post('/sandbox/phone/code', json, async (req, res) => {
    const body = parse(z.object({ scene: sceneSchema, openid: sandboxOpenidSchema }).strict(), req.body);
    const code = await service.sandboxCode(body.scene, body.openid);
    res.json({ code });
  });

  return r;
}

type Image = { contentType: string; body: Buffer };

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
