import { Router } from 'express';
import type { Core } from '../../core';
import type { AppsStore } from '../apps/store';
import { SESSION_ID } from '../sessions/index';
import type { SessionService } from '../sessions/index';
import type { WechatPort } from '../sessions/ports';
import { CHECK_FILE_NAME, servedCheckFile } from './check-files';
import { codeLink } from './link';
import { pageLang, scanWithWechatPage } from './scan-page';

const APP_ID = /^app_[A-Za-z0-9]{1,64}$/;
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * {PUBLIC_URL}/q/{appId}/… : the rule prefix of an app's link-style codes. WeChat fetches the
 * check file here and never opens the session links itself (it hands them to the mini-program),
 * so whoever GETs a session link is outside WeChat and is told to scan with it.
 */
export function codeRoutes(deps: { core: Core; apps: AppsStore; sessions: Pick<SessionService, 'get'>; wechat: WechatPort }): Router {
  const { core, apps, sessions, wechat } = deps;
  const log = core.logger.child({ feature: 'codes' });
  const r = Router();

  r.get('/q/:appId/:name', async (req, res) => {
    const appId = String(req.params.appId);
    const name = String(req.params.name);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (APP_ID.test(appId) && CHECK_FILE_NAME.test(name)) {
      const content = await servedCheckFile(core.db, appId, name);
      if (content !== null) {
        res.setHeader('Cache-Control', 'no-cache');
        res.type('text/plain').send(content);
        return;
      }
    }
    if (!APP_ID.test(appId) || !SESSION_ID.test(name)) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    const s = await sessions.get(name);
    const app = s && s.appId === appId && s.state === 'pending' ? await apps.getApp(appId) : null;
    let open: { href: string; sandbox: boolean } | undefined;
    if (s && app) {
      if (s.mode === 'test') {
        // The sandbox phone opens the link as WeChat would open the mini-program: q + scancode_time.
        const q = encodeURIComponent(codeLink(core.config.publicUrl, appId, s.id));
        open = { href: `${core.config.publicUrl}/sandbox/phone?q=${encodeURIComponent(q)}&scancode_time=${Math.floor(Date.now() / 1000)}`, sandbox: true };
      } else if (s.urlLink) {
        open = { href: s.urlLink, sandbox: false };
      } else if (app.urlLinkEnabled) {
        const href = await wechat.generateUrlLink({ appId, mode: s.mode }, { page: app.mpPage, query: `scene=${s.id}`, envVersion: app.envVersion })
          .catch((err: unknown) => void log.warn({ err, appId }, 'no URL Link for a link opened outside WeChat'));
        if (href) open = { href, sandbox: false };
      }
    }
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.status(app ? 200 : 404).type('html').send(scanWithWechatPage({ lang: pageLang((l) => req.acceptsLanguages(l)), site: app ? (app.displayName ?? app.name) : null, open }));
  });

  return r;
}
