import { Router } from 'express';
import { answerBody, confirmBody, scanBody } from '../../../contract/sessions.js';
import type { Core } from '../../core';
import { ApiError } from '../../lib/errors';
import { jsonBody, parse } from '../../lib/http';
import type { SessionService } from './service';

const json = jsonBody('4kb');

/** The mini-program API: what the confirm page in the tenant's mini-program calls. */
export function mpRoutes(deps: { core: Core; service: SessionService }): Router {
  const { core, service } = deps;
  const r = Router();

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

  return r;
}
