/** The languages console mail is written in; the request's Accept-Language picks one. */
export type MailLocale = 'en' | 'zh-CN';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export function pickLocale(acceptLanguage: string | undefined): MailLocale {
  return /^\s*zh\b/i.test(acceptLanguage ?? '') ? 'zh-CN' : 'en';
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Copy {
  subject: string;
  intro: string;
  button: string;
  expiry: string;
  ignore: string;
}

export type MailKind = 'verify' | 'reset' | 'exists';

const COPY: Record<MailKind, Record<MailLocale, Copy>> = {
  verify: {
    en: {
      subject: 'Confirm your email for the WeChat Scan Login console',
      intro: 'Follow this link to confirm that this email is yours:',
      button: 'Confirm my email',
      expiry: 'The link works once, within 24 hours.',
      ignore: 'If you did not sign up, ignore this message.',
    },
    'zh-CN': {
      subject: '确认您在微信扫码登录控制台的邮箱',
      intro: '请打开以下链接，确认此邮箱属于您：',
      button: '确认邮箱',
      expiry: '链接仅可使用一次，24 小时内有效。',
      ignore: '如果您没有注册，请忽略此邮件。',
    },
  },
  exists: {
    en: {
      subject: 'Someone tried to sign up with your email',
      intro: 'Someone (perhaps you) tried to create a WeChat Scan Login console account with this email, which already has one. Sign in here, or use "Forgot password?" on that page:',
      button: 'Sign in',
      expiry: 'Nothing was changed.',
      ignore: 'If it was not you, you can ignore this message.',
    },
    'zh-CN': {
      subject: '有人尝试用您的邮箱注册',
      intro: '有人（可能是您本人）尝试用此邮箱注册微信扫码登录控制台账户，但该邮箱已有账户。请在此登录，或在该页面使用“忘记密码？”：',
      button: '登录',
      expiry: '账户没有任何改动。',
      ignore: '如果不是您本人，请忽略此邮件。',
    },
  },
  reset: {
    en: {
      subject: 'Reset your WeChat Scan Login console password',
      intro: 'Someone (we hope you) asked to reset the password of this account. Choose a new one here:',
      button: 'Choose a new password',
      expiry: 'The link works once, within 15 minutes. Setting a new password signs out every other session.',
      ignore: 'If you did not ask, ignore this message: your password stays as it is.',
    },
    'zh-CN': {
      subject: '重置您的微信扫码登录控制台密码',
      intro: '有人（希望是您本人）请求重置此账户的密码。请在此设置新密码：',
      button: '设置新密码',
      expiry: '链接仅可使用一次，15 分钟内有效。设置新密码后，其他所有会话都会退出。',
      ignore: '如果不是您本人的请求，请忽略此邮件，您的密码不会改变。',
    },
  },
};

/** Two kinds of message, each a single link; the same words go in the plain-text and HTML parts. */
export function accountMail(kind: MailKind, locale: MailLocale, to: string, link: string): MailMessage {
  const c = COPY[kind][locale];
  const text = `${c.intro}\n\n${link}\n\n${c.expiry}\n${c.ignore}\n`;
  const html = `<!doctype html><html lang="${locale}"><body style="font-family:system-ui,sans-serif">`
    + `<p>${escapeHtml(c.intro)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(c.button)}</a></p>`
    + `<p style="color:#666">${escapeHtml(c.expiry)}<br>${escapeHtml(c.ignore)}</p></body></html>`;
  return { to, subject: c.subject, text, html };
}
