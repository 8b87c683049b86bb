/** Every visible string; a page can override any of them through the `strings` property. */
export interface Strings {
  /** The heading beside the WeChat mark. */
  title: string;
  loading: string;
  /** The connection dropped and the element is getting it back. */
  reconnecting: string;
  ready: string;
  /** `{s}` is replaced by the seconds left. */
  countdown: string;
  scanned: string;
  match: string;
  success: string;
  cancelled: string;
  expired: string;
  refresh: string;
  retry: string;
  alt: string;
  openInWechat: string;
  saveHint: string;
  /** Test mode only: the link to the sandbox phone page that plays the mini-program. */
  sandboxPhone: string;
  /** Plain words per error code; `error` is the fallback for codes without their own. */
  invalid_key: string;
  origin_not_allowed: string;
  rate_limited: string;
  /** The site's plan is at its monthly-user limit (billing). */
  quota_exceeded: string;
  wechat_error: string;
  codes_busy: string;
  offline: string;
  session_not_found: string;
  /** The element doesn't know its server (bundled without a `server` attribute). */
  no_server: string;
  error: string;
}

export type Lang = 'zh-CN' | 'en';

const en: Strings = {
  title: 'Log in with WeChat',
  loading: 'Loading…',
  reconnecting: 'Reconnecting…',
  ready: 'Scan the code with WeChat',
  countdown: 'Expires in {s} s',
  scanned: 'Scanned. Confirm on your phone',
  match: 'Your phone should show this number',
  success: 'Logged in',
  cancelled: 'Cancelled on the phone',
  expired: 'The code has expired',
  refresh: 'Get a new code',
  retry: 'Try again',
  alt: 'WeChat login code',
  openInWechat: 'Open in WeChat',
  saveHint: 'On a phone? Save this code, then open it with Scan in WeChat.',
  sandboxPhone: 'Open sandbox phone',
  invalid_key: "This site's login key is invalid.",
  origin_not_allowed: 'This site may not use this login.',
  rate_limited: 'Too many logins. Try again in a minute.',
  quota_exceeded: "This site has reached its plan's limit of users this month.",
  wechat_error: 'WeChat is not answering. Try again.',
  codes_busy: 'Many people are logging in. A new code is on its way…',
  offline: 'Cannot reach the login service.',
  session_not_found: 'This code is no longer valid.',
  no_server: 'WeChat login is not set up on this page yet.',
  error: 'Something went wrong.',
};

const zh: Strings = {
  title: '微信扫码登录',
  loading: '加载中…',
  reconnecting: '正在重新连接…',
  ready: '请使用微信扫一扫',
  countdown: '{s} 秒后过期',
  scanned: '已扫码，请在手机上确认',
  match: '手机上应显示此数字',
  success: '登录成功',
  cancelled: '已在手机上取消',
  expired: '小程序码已过期',
  refresh: '刷新小程序码',
  retry: '重试',
  alt: '微信登录小程序码',
  openInWechat: '在微信中打开',
  saveHint: '在手机上？请保存小程序码，再用微信扫一扫识别。',
  sandboxPhone: '打开沙盒手机',
  invalid_key: '本站登录密钥无效。',
  origin_not_allowed: '本网站未获准使用此登录。',
  rate_limited: '登录请求过多，请稍后再试。',
  quota_exceeded: '该网站本月登录人数已达套餐上限。',
  wechat_error: '微信暂无响应，请重试。',
  codes_busy: '当前登录人数较多，正在获取新的二维码…',
  offline: '无法连接登录服务。',
  session_not_found: '此小程序码已失效。',
  no_server: '本页面尚未配置微信登录。',
  error: '出错了。',
};

/**
 * The first supported language among the candidates, in order: the element's `lang`, then the
 * page's, then the browser's preferences. Any Chinese variant gets zh-CN (closer to a reader of
 * zh-TW than English is); anything else unsupported falls through to the next candidate.
 */
export function chooseLang(candidates: readonly (string | null | undefined)[]): Lang {
  for (const c of candidates) {
    if (/^zh/i.test(c!)) return 'zh-CN';
    if (/^en/i.test(c!)) return 'en';
  }
  return 'en';
}

export function stringsFor(lang: Lang, overrides?: Partial<Strings> | null): Strings {
  return { ...(lang == 'en' ? en : zh), ...overrides };
}
