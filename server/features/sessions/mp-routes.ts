import { Router } from 'express';
import { answerBody, confirmBody, scanBody } from '../../../contract/sessions.js';
import type { Core } from '../../core';
import { ApiError } from '../../lib/errors';
import { jsonBody, parse } from '../../lib/http';
import type { PhonePort } from './ports';
import type { SessionService } from './service';

const json = jsonBody('4kb');

/** The mini-program API: what the confirm page in the tenant's mini-program calls. */
export function mpRoutes(deps: { core: Core; service: SessionService; phone?: PhonePort }): Router {
  const { core, service, phone } = deps;
  const r = Router();

  r.post('/v1/mp/scan', json, async (req, res) => {
    const body = parse(scanBody, req.body);
    const answer = await service.scan(body.scene, body.code);
    // What the site asks for is shown before consent, beside the anti-phishing context.
    if (!phone) return void res.json(answer);
    const session = await service.get(body.scene);
    const asks = session ? await phone.asks(session.appId) : undefined;
    res.json(asks ? { ...answer, asks } : answer);
  });
  r.post('/v1/mp/confirm', json, async (req, res) => {
    const body = parse(confirmBody, req.body);
    // The page only ever sends what POST /v1/mp/avatar answered. Any other URL would become the
    // token's `picture` and an <img> on the tenant's site and console: a tracker or a GET-CSRF.
    const avatar = body.profile?.avatarUrl;
    if (avatar !== undefined && !(avatar.startsWith(`${core.config.publicUrl}/v1/avatars/`) && /\/v1\/avatars\/avt_[A-Za-z0-9]{16}$/.test(avatar))) {
      throw new ApiError('bad_request', 'body.profile.avatarUrl: must be the URL POST /v1/mp/avatar returned');
    }
    // Before the login core, and only while the confirm is still to begin (a retried confirm
    // whose answer was lost finishes as before): a refused or failed number stops here, with
    // nothing recorded. The ticket is checked before any WeChat call is spent.
    const session = phone ? await service.get(body.scene) : null;
    if (phone && session?.state === 'scanned' && session.openid && (await phone.asks(session.appId))) {
      const scanner = await service.checkTicket(body.scene, body.ticket);
      await phone.beforeConfirm({ ...scanner, openid: session.openid }, body.phoneCode);
    }
    await service.confirm(body.scene, body.ticket, body.profile ?? {});
    res.json({ ok: true });
  });
  r.post('/v1/mp/cancel', json, async (req, res) => {
    const body = parse(answerBody, req.body);
    await service.cancel(body.scene, body.ticket);
    res.json({ ok: true });
  });

  return r;
}
