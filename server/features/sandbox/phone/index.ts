import { readFileSync } from 'node:fs';
import { Router, type Response } from 'express';

const PAGE_DIR = new URL('./page/', import.meta.url);
/** The mini-program page's own modules: the sandbox phone runs the same logic and texts. */
const MINIPROGRAM_DIR = new URL('../../../../miniprogram/pages/scan-login/', import.meta.url);

/**
 * Makes a mini-program CommonJS module loadable by a classic <script>: it lands on
 * window.ScanLogin[name], and `require('./x')` reads window.ScanLogin.x (load order matters).
 */
function asBrowserScript(name: string, source: string): string {
  return [
    '(function () {',
    'var module = { exports: {} }; var exports = module.exports;',
    "var require = function (p) { return window.ScanLogin[String(p).replace(/^\\.\\//, '').replace(/\\.js$/, '')]; };",
    'window.ScanLogin = window.ScanLogin || {};',
    source,
    `;window.ScanLogin[${JSON.stringify(name)}] = module.exports;`,
    '})();',
    '',
  ].join('\n');
}

/** Strict: scripts and styles only from files here; images may be the tenant's logo anywhere. */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: http: data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * GET /sandbox/phone?scene=… — the web twin of the mini-program confirm page, which the
 * sandbox WeChat simulator's codes point at. It calls the same /v1/mp/* API as the real page.
 */
export function createPhoneRouter(): Router {
  const html = readFileSync(new URL('index.html', PAGE_DIR), 'utf8');
  const assets: Record<string, { type: string; body: string }> = {
    'phone.js': { type: 'text/javascript', body: readFileSync(new URL('phone.js', PAGE_DIR), 'utf8') },
    'phone.css': { type: 'text/css', body: readFileSync(new URL('phone.css', PAGE_DIR), 'utf8') },
    'i18n.js': { type: 'text/javascript', body: asBrowserScript('i18n', readFileSync(new URL('i18n.js', MINIPROGRAM_DIR), 'utf8')) },
    'flow.js': { type: 'text/javascript', body: asBrowserScript('flow', readFileSync(new URL('flow.js', MINIPROGRAM_DIR), 'utf8')) },
  };

  const common = (res: Response) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
  };

  const router = Router();
  router.get('/sandbox/phone', (_req, res) => {
    common(res);
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.type('html').send(html);
  });
  router.get('/sandbox/phone/assets/:file', (req, res, next) => {
    const asset = Object.hasOwn(assets, req.params.file) ? assets[req.params.file] : undefined;
    if (!asset) return next();
    common(res);
    res.type(asset.type).send(asset.body);
  });
  return router;
}
