import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

export const CONSOLE_DIST = fileURLToPath(new URL('../../../dist/console', import.meta.url));

/**
 * The built SPA at /console/. Hashed assets are cached for a year; index.html never, so a
 * deploy is picked up at once. Any other /console/… path is a client-side route and gets
 * index.html (the SPA fallback); /console/api/… is never swallowed.
 */
export function consoleStatic(dist = CONSOLE_DIST): Router {
  const router = express.Router();
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');

  const sendIndex = (res: express.Response) => {
    const index = join(dist, 'index.html');
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The console is not built yet: run `npm run build`.\n');
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('content-security-policy', csp);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'same-origin');
    res.sendFile(index);
  };

  // Non-strict routing matches '/console/' here too: only the bare path redirects.
  router.get('/console', (req, res, next) => (req.path === '/console' ? res.redirect(301, '/console/') : next()));
  router.use('/console/assets', express.static(join(dist, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }));
  router.use('/console', (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path.startsWith('/api/') || req.path === '/api') return next();
    // Real files other than index.html (favicon and the like), then the SPA fallback.
    if (/\.[a-z0-9]{2,5}$/i.test(req.path) && req.path !== '/index.html') {
      return express.static(dist, { index: false, maxAge: '1h' })(req, res, next);
    }
    sendIndex(res);
  });
  return router;
}
