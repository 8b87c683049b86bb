import { randomBytes } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';

export type PageLang = 'zh-CN' | 'en';

const TEXT = {
  'zh-CN': {
    title: (app: string) => `登录 ${app}`,
    lead: '请用微信扫描二维码，并在手机上确认登录。',
    returnsTo: (host: string) => `登录后将返回 ${host}`,
    cancel: '取消',
    errorTitle: '无法继续登录',
    errorBack: '请返回原网站重新开始登录。',
  },
  en: {
    title: (app: string) => `Log in to ${app}`,
    lead: 'Scan the code with WeChat, then confirm on your phone.',
    returnsTo: (host: string) => `You will return to ${host}`,
    cancel: 'Cancel',
    errorTitle: 'This login cannot continue',
    errorBack: 'Go back to the site and start the login again.',
  },
} as const;

/**
 * The page's language: the first of `ui_locales` we have, else the browser's preference
 * (Accept-Language, as Express ranks it), else Chinese, the product's home language.
 */
export function chooseLang(uiLocales: unknown, acceptsLanguages: (langs: string[]) => string | false): PageLang {
  if (typeof uiLocales === 'string') {
    for (const tag of uiLocales.split(/\s+/)) {
      const base = tag.toLowerCase().split('-')[0];
      if (base === 'zh') return 'zh-CN';
      if (base === 'en') return 'en';
    }
  }
  return acceptsLanguages(['zh', 'en']) === 'en' ? 'en' : 'zh-CN';
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { width: min(360px, 100vw - 32px); padding: 32px 24px; text-align: center; }
  .logo { width: 56px; height: 56px; border-radius: 12px; object-fit: cover; }
  h1 { font-size: 1.35rem; margin: 12px 0 4px; }
  p { margin: 4px 0 16px; opacity: .8; }
  .returns { font-size: .85rem; opacity: .65; }
  .element { display: flex; justify-content: center; margin: 16px 0; }
  button.link { background: none; border: 0; color: LinkText; cursor: pointer; font: inherit; text-decoration: underline; }
`;

export interface InteractionPageInput {
  lang: PageLang;
  appName: string;
  logoUrl: string | null;
  siteKey: string;
  widgetUrl: string;
  loginAction: string;
  abortAction: string;
  /** The origin the visitor goes back to: shown, and allowed as a form target (the redirects end there). */
  redirectOrigin: string;
  socketOrigin: string;
}

/** The hosted authorize page: the app's name and logo, the element, and two forms it submits. */
export function renderInteractionPage(p: InteractionPageInput): { html: string; csp: string } {
  const t = TEXT[p.lang];
  const nonce = randomBytes(16).toString('base64');
  const name = escapeHtml(p.appName);
  const html = `<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(t.title(p.appName))}</title>
<style nonce="${nonce}">${STYLE}</style>
<script type="module" src="${escapeHtml(p.widgetUrl)}"></script>
</head>
<body>
<main>
${p.logoUrl ? `<img class="logo" src="${escapeHtml(p.logoUrl)}" alt="">` : ''}
<h1>${escapeHtml(t.title(p.appName))}</h1>
<p>${t.lead}</p>
<div class="element"><wechat-scan-login site-key="${escapeHtml(p.siteKey)}" lang="${p.lang}" aria-label="${name}"></wechat-scan-login></div>
<p class="returns">${escapeHtml(t.returnsTo(new URL(p.redirectOrigin).host))}</p>
<form id="login" method="post" action="${escapeHtml(p.loginAction)}"><input type="hidden" name="token"></form>
<form method="post" action="${escapeHtml(p.abortAction)}"><button class="link" type="submit">${t.cancel}</button></form>
</main>
<script nonce="${nonce}">
  const form = document.getElementById('login');
  document.addEventListener('login', (e) => {
    form.elements.token.value = e.detail.token;
    form.submit();
  }, { once: true });
</script>
</body>
</html>`;
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' https: data:",
    `connect-src 'self' ${p.socketOrigin}`,
    // The form's redirects end at the client's redirect URI; browsers check form-action on them.
    `form-action 'self' ${p.redirectOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return { html, csp };
}

/** A page for a flow that can't go on (the interaction expired, its cookie is gone, the app has no key…). */
export function renderErrorPage(lang: PageLang, detail: string): string {
  const t = TEXT[lang];
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.errorTitle}</title><style>${STYLE}</style></head>
<body><main><h1>${t.errorTitle}</h1><p>${escapeHtml(detail)}</p><p>${t.errorBack}</p></main></body></html>`;
}

/**
 * The provider's own error page (shown when it can't redirect back, e.g. an unregistered
 * redirect_uri). Only the OAuth error and its description: never internals.
 */
export function renderProviderError(ctx: KoaContextWithOIDC, out: { error?: string; error_description?: string }): void {
  const lang = /^\s*en\b/i.test(ctx.get('accept-language')) ? 'en' : 'zh-CN';
  ctx.type = 'html';
  ctx.body = renderErrorPage(lang, `${out.error ?? 'error'}${out.error_description ? `: ${out.error_description}` : ''}`);
}
