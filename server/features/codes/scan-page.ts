import { escapeHtml } from '../oidc/index';

type Lang = 'zh-CN' | 'en';

const TEXTS: Record<Lang, { title: string; body: (site: string) => string; open: string; sandbox: string; gone: string }> = {
  'zh-CN': {
    title: '请用微信扫码',
    body: (site) => `这个二维码用于登录「${site}」。请打开微信，点「扫一扫」扫描电脑屏幕上的二维码。`,
    open: '在微信中打开',
    sandbox: '在沙箱手机中打开',
    gone: '这个二维码已失效。请在电脑上刷新二维码，然后用微信扫码。',
  },
  en: {
    title: 'Scan with WeChat',
    body: (site) => `This code signs you in to “${site}”. Open WeChat, tap “Scan”, and scan the code on your computer screen.`,
    open: 'Open in WeChat',
    sandbox: 'Open in the sandbox phone',
    gone: 'This code is no longer valid. Refresh the code on your computer, then scan it with WeChat.',
  },
};

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { width: min(360px, 100vw - 32px); padding: 32px 24px; text-align: center; }
  h1 { font-size: 1.35rem; margin: 0 0 8px; }
  p { margin: 0 0 20px; opacity: .85; line-height: 1.5; }
  a { display: inline-block; padding: 10px 20px; border-radius: 8px; background: #07c160; color: #fff; text-decoration: none; }
`;

/**
 * What a link-style code's link shows outside WeChat (a phone's camera, a browser): never a
 * login, only how to scan it, and the URL Link or the sandbox phone when there is one.
 */
export function scanWithWechatPage(p: { lang: Lang; site: string | null; open?: { href: string; sandbox: boolean } }): string {
  const t = TEXTS[p.lang];
  const body = p.site === null ? t.gone : t.body(p.site);
  const link = p.open ? `<a href="${escapeHtml(p.open.href)}" rel="noreferrer">${p.open.sandbox ? t.sandbox : t.open}</a>` : '';
  return `<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title}</title>
<style>${STYLE}</style>
</head>
<body><main><h1>${t.title}</h1><p>${escapeHtml(body)}</p>${link}</main></body>
</html>
`;
}

export function pageLang(acceptsLanguages: (langs: string[]) => string | false): Lang {
  return acceptsLanguages(['zh', 'en']) === 'en' ? 'en' : 'zh-CN';
}
