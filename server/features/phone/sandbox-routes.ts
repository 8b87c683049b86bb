import { Router } from 'express';
import { z } from 'zod';
import { sceneSchema } from '../../../contract/sessions.js';
import { ApiError } from '../../lib/errors';
import { jsonBody, parse } from '../../lib/http';
import type { KeyMode } from '../../lib/ids';

/** The number the tester picks in the sandbox phone's stand-in for WeChat's phone-number dialog. */
const numberBody = z.object({
  scene: sceneSchema,
  countryCode: z.string().regex(/^[1-9][0-9]{0,3}$/, 'a country calling code, digits only (86)').default('86'),
  purePhoneNumber: z.string().regex(/^[0-9]{4,14}$/, 'the number without country code, digits only'),
}).strict();

/**
 * POST /sandbox/phone/number — the sandbox phone's getPhoneNumber: a one-time code for the
 * number the tester picked, minted by the sandbox's WeChat for the session's app, which the page
 * then sends with its confirm like a real code. Test-mode sessions only, like /sandbox/phone/code.
 */
export function phoneSandboxRoutes(deps: {
  sessions: { get(id: string): Promise<{ appId: string; mode: KeyMode; state: string } | null> };
  sandbox: { phoneNumberCode(appId: string, choice: { countryCode: string; purePhoneNumber: string }): Promise<string> };
}): Router {
  const r = Router();
  r.post('/sandbox/phone/number', jsonBody('1kb'), async (req, res) => {
    const { scene, ...choice } = parse(numberBody, req.body);
    const s = await deps.sessions.get(scene);
    if (!s || s.state === 'expired') throw new ApiError('session_not_found', 'This login is not waiting any more; refresh the code on your computer');
    if (s.mode !== 'test') throw new ApiError('live_mode_forbidden', 'The sandbox phone only works for test-mode sessions');
    res.json({ code: await deps.sandbox.phoneNumberCode(s.appId, choice) });
  });
  return r;
}
