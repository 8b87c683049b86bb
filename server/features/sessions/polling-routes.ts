import { Router, type Request } from 'express';
import { eventsQuery } from '../../../contract/sessions.js';
import type { Core } from '../../core';
import { ApiError, ERROR_STATUS, errorBody } from '../../lib/errors';
import { parse } from '../../lib/http';
import type { SessionBus } from './bus';
import { describeClient, normaliseIp } from './client-info';
import type { Frame } from './frames';
import type { Gate } from './gate';
import type { SessionService } from './service';

const LONG_POLL_MS = 25_000;

/** The state name a frame stands for, to compare with the poller's `after`. */
function stateOf(frame: Frame): string {
  return frame.type === 'session' ? 'pending' : frame.type;
}

function bearer(req: Request): string {
  const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  if (!m) throw new ApiError('unauthorized', 'Send the session secret as `Authorization: Bearer …`');
  return m[1]!;
}

/** The widget's polling fallback, for networks that block WebSocket: the same frames as the socket. */
export function pollingRoutes(deps: { core: Core; gate: Gate; service: SessionService; bus: SessionBus }): Router {
  const { gate, service, bus } = deps;
  const r = Router();

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
    const admission = await gate.admit(typeof req.query.key === 'string' ? req.query.key : null, req.get('origin'), normaliseIp(req.ip), req.get('cookie'));
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
      // A resync pass repeats the state the poller has already seen: that is not news.
      const unlisten = bus.listen(id, (event) => {
        if (event !== seen) finish();
      });
      const window = setTimeout(finish, LONG_POLL_MS);
      const expiry = setTimeout(() => void service.expire(id).catch(() => 'error').finally(finish), Math.max(0, session.expiresAt - Date.now()) + 20);
      res.on('close', finish);
    });
    if (res.destroyed) return;
    res.json((await service.attach(id, secret)).frame);
  });

  return r;
}
