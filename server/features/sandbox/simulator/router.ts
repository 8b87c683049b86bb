import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ApiError } from '../../../lib/errors';
import { jsonBody, parse } from '../../../lib/http';
import { createEngine, SIM_APIS, type Engine, type EngineOptions, type Fault, type SimApi, type WxError } from './engine';

export interface SimulatorOptions extends Omit<EngineOptions, 'now'> {
  /**
   * Mounted in the product, test controls must name an AppID: one tenant's injected faults
   * or statistics never touch another's.
   */
  scoped: boolean;
  /**
   * WeChat's cost of a mini-program code, for benches: how long it takes to answer
   * (100–300 ms from a server in China) and its quota of codes a minute per AppID, past which
   * it answers 45009. Unset: no delay, no quota (the product's sandbox).
   */
  codes?: { latencyMs?: number; perMinute?: number };
  /**
   * Who may inject faults into, clear or read the counters of an AppID. Mounted in the product
   * this checks the caller's test-mode secret key, so a tenant can't disturb another's sandbox.
   */
  authorizeControl?(req: Request, appid: string): Promise<boolean>;
  now?: () => number;
}

const faultSchema = z.object({
  appid: z.string().min(1).max(64).optional(),
  api: z.enum(SIM_APIS),
  times: z.number().int().min(1).max(1000).default(1),
  errcode: z.number().int().optional(),
  errmsg: z.string().max(200).optional(),
  httpStatus: z.number().int().min(400).max(599).optional(),
  delayMs: z.number().int().min(0).max(60_000).optional(),
}).refine((f) => f.errcode !== undefined || f.httpStatus !== undefined || f.delayMs !== undefined, {
  message: 'give errcode, httpStatus or delayMs',
});

const loginSchema = z.object({
  appid: z.string().min(1).max(64),
  openid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  unionid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
});

/** The number the tester picks on the sandbox phone. */
export const phoneChoiceSchema = z.object({
  countryCode: z.string().regex(/^[1-9][0-9]{0,3}$/).default('86'),
  purePhoneNumber: z.string().regex(/^[0-9]{4,14}$/),
  /** A code whose watermark names another mini-program (what a replayed code looks like). */
  watermarkAppid: z.string().min(1).max(64).optional(),
});
const phoneNumberSchema = phoneChoiceSchema.extend({ appid: z.string().min(1).max(64) });

const appidQuery = z.object({ appid: z.string().min(1).max(64).optional() });

// WeChat reads the body as JSON whatever the Content-Type says, and answers 47001 when it isn't.
const rawBody = express.text({ type: () => true, limit: '8kb' });

function readJson(req: Request): Record<string, unknown> | null {
  const text = typeof req.body === 'string' ? req.body : '';
  try {
    const v: unknown = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const FORMAT_ERROR: WxError = { errcode: 47001, errmsg: 'data format error' };

/**
 * Applies an injected fault. Returns true when the response has been sent; a delay-only
 * fault just slows the call down and lets it proceed.
 */
async function applyFault(engine: Engine, api: SimApi, appid: string | undefined, res: Response): Promise<boolean> {
  await engine.count(api, appid);
  const fault = await engine.takeFault(api, appid);
  if (!fault) return false;
  if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (res.writableEnded || res.destroyed) return true;
  if (fault.httpStatus) {
    res.status(fault.httpStatus).type('text/html').send(`<html><body>${fault.httpStatus} simulated upstream error</body></html>`);
    return true;
  }
  if (fault.errcode !== undefined) {
    res.json({ errcode: fault.errcode, errmsg: fault.errmsg ?? 'simulated error' });
    return true;
  }
  return false;
}

/** WeChat's API on an Express router, plus test controls under /__sim/. */
export function createSimulatorRouter(opts: SimulatorOptions): Router {
  const engine = createEngine({ ...opts, now: opts.now ?? Date.now });
  const router = Router();

  router.post('/cgi-bin/stable_token', rawBody, async (req, res) => {
    const body = readJson(req);
    if (await applyFault(engine, 'stable_token', typeof body?.appid === 'string' ? body.appid : undefined, res)) return;
    if (!body) return void res.json(FORMAT_ERROR);
    const r = await engine.stableToken(body);
    res.json(r.ok ? r.value : r.error);
  });

  router.post('/wxa/getwxacodeunlimit', rawBody, async (req, res) => {
    const token = typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
    if (await applyFault(engine, 'getwxacodeunlimit', await engine.tokenAppId(token), res)) return;
    const body = readJson(req);
    if (!body) return void res.json(FORMAT_ERROR);
    if (opts.codes?.latencyMs) await new Promise((r) => setTimeout(r, opts.codes!.latencyMs));
    if (opts.codes?.perMinute) {
      const minute = Math.floor((opts.now ?? Date.now)() / 60_000);
      const used = await opts.kv.incr(`codes:${(await engine.tokenAppId(token)) ?? '?'}:${minute}`, 120_000);
      if (used > opts.codes.perMinute) return void res.json({ errcode: 45009, errmsg: 'reach max api minute quota limit' });
    }
    const r = await engine.getwxacodeunlimit(token, body);
    // WeChat sends image/jpeg unless is_hyaline; we always draw a PNG, so we label it honestly.
    if (r.ok) res.type('image/png').send(r.value);
    else res.json(r.error);
  });

  router.get('/sns/jscode2session', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    if (await applyFault(engine, 'jscode2session', typeof q.appid === 'string' ? q.appid : undefined, res)) return;
    const r = await engine.jscode2session(q);
    res.json(r.ok ? r.value : r.error);
  });

  router.post('/wxa/generate_urllink', rawBody, async (req, res) => {
    const token = typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
    if (await applyFault(engine, 'generate_urllink', await engine.tokenAppId(token), res)) return;
    const body = readJson(req);
    if (!body) return void res.json(FORMAT_ERROR);
    const r = await engine.generateUrlLink(token, body);
    res.json(r.ok ? { errcode: 0, errmsg: 'ok', url_link: r.value } : r.error);
  });

  router.post('/wxa/business/getuserphonenumber', rawBody, async (req, res) => {
    const token = typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
    if (await applyFault(engine, 'getuserphonenumber', await engine.tokenAppId(token), res)) return;
    const body = readJson(req);
    if (!body) return void res.json(FORMAT_ERROR);
    const r = await engine.getuserphonenumber(token, body);
    res.json(r.ok ? { errcode: 0, errmsg: 'ok', phone_info: r.value } : r.error);
  });

  const json = jsonBody('8kb');
  const authorize = async (req: Request, appid: string | undefined) => {
    if (!opts.scoped) return;
    if (!appid) throw new ApiError('bad_request', 'appid is required: sandbox controls act on one AppID');
    if (opts.authorizeControl && !(await opts.authorizeControl(req, appid))) {
      throw new ApiError('invalid_key', 'Sandbox controls need the test-mode secret key (Authorization: Bearer sk_test_…) of the app this AppID belongs to');
    }
  };

  router.post('/__sim/phone/login', json, async (req, res) => {
    const b = parse(loginSchema, req.body);
    const r = await engine.issueCode(b.appid, b.openid, b.unionid);
    if (!r.ok) throw new ApiError('not_found', `Unknown AppID ${b.appid}`);
    res.json({ code: r.value });
  });

  router.post('/__sim/phone/number', json, async (req, res) => {
    const { appid, ...choice } = parse(phoneNumberSchema, req.body);
    const r = await engine.issuePhoneCode(appid, choice);
    if (!r.ok) throw new ApiError('not_found', `Unknown AppID ${appid}`);
    res.json({ code: r.value });
  });

  // WeChat now and then rejects a token (40001) that normal-mode stable_token still hands back.
  router.post('/__sim/tokens/reject', json, async (req, res) => {
    const { appid } = parse(z.object({ appid: z.string().min(1).max(64) }), req.body);
    await authorize(req, appid);
    if (!(await engine.rejectCurrentToken(appid))) throw new ApiError('not_found', `No current access token for AppID ${appid}`);
    res.json({ ok: true });
  });

  router.post('/__sim/faults', json, async (req, res) => {
    const f = parse(faultSchema, req.body) as Fault;
    await authorize(req, f.appid);
    await engine.inject(f);
    res.status(201).json({ ok: true });
  });

  router.delete('/__sim/faults', async (req, res) => {
    const { appid } = parse(appidQuery, req.query, 'query');
    await authorize(req, appid);
    await engine.clearFaults(appid);
    res.json({ ok: true });
  });

  router.get('/__sim/stats', async (req, res) => {
    const { appid } = parse(appidQuery, req.query, 'query');
    await authorize(req, appid);
    res.json({ calls: await engine.stats(appid) });
  });

  return router;
}
