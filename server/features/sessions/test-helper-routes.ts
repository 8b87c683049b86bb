import { Router } from 'express';
import { z } from 'zod';
import { sandboxOpenidSchema, sceneSchema, testScanBody } from '../../../contract/sessions.js';
import { ApiError } from '../../lib/errors';
import { jsonBody, parse } from '../../lib/http';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { AppsStore } from '../apps/store';
import { SESSION_ID } from './frames';
import type { SessionService } from './service';

const json = jsonBody('4kb');

/** Sandbox only: the Stripe-like test helpers for site owners' own tests, and the sandbox phone's code source. */
export function testHelperRoutes(deps: { service: SessionService; apps: AppsStore }): Router {
  const { service, apps } = deps;
  const r = Router();

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
