/**
 * A scripted `wx` for unit tests of the page logic: request answers come from `respond`,
 * every call is recorded. Integration tests use a `wx` that reaches the real server instead.
 */
export type Answer = { status: number; body: unknown; header?: Record<string, string> } | 'network';

export interface FakeWxOptions {
  language?: string;
  supports?: string[];
  respond(path: string, body: Record<string, unknown>): Answer;
  upload?(formData: Record<string, string>, filePath: string): Answer;
  loginFails?: () => boolean;
}

export interface FakeWx {
  requests: Array<{ path: string; body: Record<string, unknown> }>;
  uploads: Array<{ path: string; filePath: string; formData: Record<string, string>; name: string }>;
  codes: string[];
  exits: number;
  backs: number;
  titles: string[];
  [api: string]: unknown;
}

type Cb = { success?: (r: unknown) => void; fail?: (e: unknown) => void };

export function fakeWx(o: FakeWxOptions): FakeWx {
  let n = 0;
  const wx: FakeWx = {
    requests: [],
    uploads: [],
    codes: [],
    exits: 0,
    backs: 0,
    titles: [],
    getSystemInfoSync: () => ({ language: o.language ?? 'zh_CN' }),
    canIUse: (what: string) => (o.supports ?? ['button.open-type.chooseAvatar', 'input.type.nickname']).includes(what),
    login(cb: Cb) {
      setTimeout(() => {
        if (o.loginFails?.()) return cb.fail?.({ errMsg: 'login:fail' });
        const code = `code-${++n}`;
        wx.codes.push(code);
        cb.success?.({ code, errMsg: 'login:ok' });
      }, 0);
    },
    request(req: Cb & { url: string; data: Record<string, unknown> }) {
      const path = new URL(req.url).pathname;
      wx.requests.push({ path, body: req.data });
      const a = o.respond(path, req.data);
      setTimeout(() => (a === 'network' ? req.fail?.({ errMsg: 'request:fail timeout' }) : req.success?.({ statusCode: a.status, data: a.body, header: a.header ?? {} })), 0);
    },
    uploadFile(req: Cb & { url: string; filePath: string; name: string; formData: Record<string, string> }) {
      wx.uploads.push({ path: new URL(req.url).pathname, filePath: req.filePath, formData: req.formData, name: req.name });
      const a = o.upload ? o.upload(req.formData, req.filePath) : 'network';
      // wx.uploadFile hands the body over as a string, unlike wx.request.
      setTimeout(() => (a === 'network' ? req.fail?.({ errMsg: 'uploadFile:fail' }) : req.success?.({ statusCode: a.status, data: JSON.stringify(a.body) })), 0);
    },
    setNavigationBarTitle: ({ title }: { title: string }) => wx.titles.push(title),
    exitMiniProgram: () => {
      wx.exits++;
    },
    navigateBack: () => {
      wx.backs++;
    },
  };
  return wx;
}

export const SCAN_OK = {
  ticket: 'tkt_1',
  site: { name: 'Acme Shop', origin: 'https://shop.example', logoUrl: 'https://shop.example/logo.png' },
  request: { browser: 'Chrome 126', os: 'macOS 14', ip: '203.0.113.7', location: { country: '中国', region: '上海', city: '上海' }, createdAt: '2026-03-01T08:09:10.000Z' },
  match: '42',
  expiresAt: '2026-03-01T08:11:10.000Z',
};

export function apiError(status: number, code: string): Answer {
  return { status, body: { error: { code, message: code, requestId: 'req_x' } } };
}
