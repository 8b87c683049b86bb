import { describe, expect, it } from 'vitest';
import { apiError, fakeWx, SCAN_OK, type Answer } from './fake-wx';
import { requirePageModule } from './harness';

interface View {
  state: string;
  lang: string;
  busy: string;
  t: Record<string, string>;
  asks: string;
  device: string;
  location: string;
  time: string;
  match: string;
  site: { name: string; origin: string; logoUrl: string };
  profile: { avatar: boolean; nickname: boolean; preview: string; uploading: boolean; notice: string };
  result: { kind: string; title: string; body: string; retry: boolean; code?: string };
}
interface Flow {
  view(): View;
  start(o: Record<string, string | undefined>): Promise<void>;
  confirm(form?: { nickname?: string }): Promise<void>;
  cancel(): Promise<void>;
  retry(): Promise<void>;
  uploadAvatar(p: string): Promise<void>;
  back(): void;
}
const { createFlow, decodeScene, formatLocation } = requirePageModule<{
  createFlow(o: { wx: unknown; serverUrl: string; onChange?: (v: View) => void }): Flow;
  decodeScene(s: unknown): string | null;
  formatLocation(l: unknown, lang: string): string;
}>('flow');
const i18n = requirePageModule<{ TEXTS: Record<string, Record<string, string>>; pickLang(l: string): string }>('i18n');

const SCENE = 'AbCdEfGhIjKlMnOpQrStUv';
const ok = (body: unknown): Answer => ({ status: 200, body });

function setup(respond: (path: string, body: Record<string, unknown>) => Answer, extra: Partial<Parameters<typeof fakeWx>[0]> = {}) {
  const wx = fakeWx({ respond, ...extra });
  const views: View[] = [];
  const flow = createFlow({ wx, serverUrl: 'https://login.example/', onChange: (v) => views.push(v) });
  return { wx, flow, views };
}

describe('texts', () => {
  it('has every key in both languages, and no empty text', () => {
    const zh = Object.keys(i18n.TEXTS['zh-CN']!).sort();
    const en = Object.keys(i18n.TEXTS.en!).sort();
    expect(zh).toEqual(en);
    for (const lang of ['zh-CN', 'en']) for (const k of zh) expect(i18n.TEXTS[lang]![k], `${lang}.${k}`).toMatch(/\S/);
  });

  it('reads any Chinese phone language as zh-CN and anything else as English', () => {
    expect(i18n.pickLang('zh_CN')).toBe('zh-CN');
    expect(i18n.pickLang('zh_TW')).toBe('zh-CN');
    expect(i18n.pickLang('en')).toBe('en');
    expect(i18n.pickLang('fr')).toBe('en');
    expect(i18n.pickLang('')).toBe('en');
  });
});

describe('scene', () => {
  it('decodes the URL-encoded scene and refuses anything that is not a session id', () => {
    expect(decodeScene(encodeURIComponent(SCENE))).toBe(SCENE);
    expect(decodeScene('a%2Fb')).toBeNull();
    expect(decodeScene('%E0%A4%A')).toBeNull();
    expect(decodeScene(undefined)).toBeNull();
    expect(decodeScene('x'.repeat(33))).toBeNull();
  });

  it('shows "cannot read this code" without calling anything when the scene is bad', async () => {
    const { wx, flow } = setup(() => ok({}));
    await flow.start({ scene: '../etc' });
    expect(flow.view().state).toBe('error');
    expect(flow.view().result.code).toBe('bad_link');
    expect(flow.view().result.retry).toBe(false);
    expect(wx.requests).toHaveLength(0);
  });
});

describe('link-style codes: q and scancode_time (DESIGN §11)', () => {
  const link = `https://login.example/q/app_AbC123/${SCENE}`;
  const now = () => String(Math.floor(Date.now() / 1000));

  it('takes the session id from q, the URL-encoded link, and scans it', async () => {
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })));
    await flow.start({ q: encodeURIComponent(link), scancode_time: now() });
    expect(flow.view().state).toBe('review');
    expect(wx.requests[0]).toEqual({ path: '/v1/mp/scan', body: { scene: SCENE, code: 'code-1' } });
  });

  it('refuses a stale scancode_time clearly, without calling anything', async () => {
    const { wx, flow } = setup(() => ok(SCAN_OK), { language: 'en' });
    await flow.start({ q: encodeURIComponent(link), scancode_time: String(Math.floor(Date.now() / 1000) - 3600) });
    expect(flow.view().state).toBe('error');
    expect(flow.view().result.code).toBe('stale');
    expect(flow.view().result.title).toBe('This scan is out of date');
    expect(flow.view().result.retry).toBe(false);
    expect(wx.requests).toHaveLength(0);
  });

  it('refuses a link that is not one of ours as unreadable', async () => {
    const { wx, flow } = setup(() => ok(SCAN_OK));
    await flow.start({ q: encodeURIComponent('https://evil.example/x/../etc'), scancode_time: now() });
    expect(flow.view().result.code).toBe('bad_link');
    await flow.start({ q: encodeURIComponent(`https://login.example/q/app_AbC123/${SCENE}/more`), scancode_time: now() });
    expect(flow.view().result.code).toBe('bad_link');
    await flow.start({ q: encodeURIComponent(link), scancode_time: 'soon' });
    expect(flow.view().result.code).toBe('stale');
    expect(wx.requests).toHaveLength(0);
  });
});

describe('flow', () => {
  it('logs in, scans, shows what is being approved, then confirms with the ticket', async () => {
    const { wx, flow, views } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })), { language: 'en' });
    await flow.start({ scene: encodeURIComponent(SCENE) });
    expect(views[0]!.state).toBe('loading');
    const v = flow.view();
    expect(v.state).toBe('review');
    expect(wx.requests[0]).toEqual({ path: '/v1/mp/scan', body: { scene: SCENE, code: 'code-1' } });
    expect(v.site).toEqual(SCAN_OK.site);
    expect(v.asks).toBe('Acme Shop wants you to log in with your WeChat account');
    expect(v.device).toBe('Chrome 126 on macOS 14');
    expect(v.location).toBe('中国, 上海');
    expect(v.time).toMatch(/^2026-03-0[12] \d\d:09:10$/);
    expect(v.match).toBe('42');

    await flow.confirm({ nickname: '' });
    expect(wx.requests[1]).toEqual({ path: '/v1/mp/confirm', body: { scene: SCENE, ticket: 'tkt_1' } });
    expect(flow.view().state).toBe('done');
    expect(flow.view().result.title).toBe('You are logged in');
    flow.back();
    expect(wx.exits).toBe(1);
  });

  it('cancels for real', async () => {
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })));
    await flow.start({ scene: SCENE });
    await flow.cancel();
    expect(wx.requests.map((r) => r.path)).toEqual(['/v1/mp/scan', '/v1/mp/cancel']);
    expect(wx.requests[1]!.body).toEqual({ scene: SCENE, ticket: 'tkt_1' });
    expect(flow.view().state).toBe('cancelled');
    expect(flow.view().result.title).toBe('已取消登录');
    // Nothing more can be sent after a result.
    await flow.confirm();
    expect(wx.requests).toHaveLength(2);
  });

  it.each([
    [410, 'session_expired', 'expired', 'Refresh the code on your computer, then scan it again.'],
    [409, 'already_scanned', 'already_scanned', 'If it was not you, refresh the code on your computer, then scan it again.'],
    [404, 'session_not_found', 'not_found', 'Refresh the code on your computer, then scan it again.'],
    [403, 'quota_exceeded', 'quota', "The site has reached its plan's limit of monthly users. Ask its owner to upgrade."],
  ])('turns %s %s into plain words with no retry', async (status, code, kind, body) => {
    const { flow } = setup(() => apiError(status, code), { language: 'en' });
    await flow.start({ scene: SCENE });
    expect(flow.view().result).toMatchObject({ kind: 'error', code: kind, body, retry: false });
  });

  it.each([
    [502, 'wechat_error', 'wechat'],
    [429, 'rate_limited', 'rate'],
    [500, 'internal', 'server'],
    [503, undefined, 'server'],
  ])('offers a retry after %s %s', async (status, code, kind) => {
    const { flow } = setup(() => (code ? apiError(status, code) : { status, body: '<html>bad gateway</html>' }));
    await flow.start({ scene: SCENE });
    expect(flow.view().result).toMatchObject({ code: kind, retry: true });
  });

  it('retries a failed scan with a fresh wx.login code (codes are single-use)', async () => {
    let down = true;
    const { wx, flow } = setup((path) => (down ? 'network' : path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })), { language: 'en' });
    await flow.start({ scene: SCENE });
    expect(flow.view().result).toMatchObject({ code: 'network', title: 'No connection', retry: true });
    down = false;
    await flow.retry();
    expect(flow.view().state).toBe('review');
    expect(wx.requests.map((r) => r.body.code)).toEqual(['code-1', 'code-2']);
  });

  it('tries a scan again on its own when the server says unavailable (after its Retry-After), with a fresh code each time', async () => {
    let unavailable = 2;
    const busy: Answer = { ...apiError(503, 'unavailable'), header: { 'Retry-After': '1' } };
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' && unavailable-- > 0 ? busy : ok(SCAN_OK)));
    await flow.start({ scene: SCENE });
    expect(flow.view().state).toBe('review');
    expect(wx.requests.map((r) => r.body.code)).toEqual(['code-1', 'code-2', 'code-3']);
  });

  it('after a few unavailable answers asks the visitor to retry, and a confirm is sent again the same way', async () => {
    let down = true;
    const busy: Answer = { ...apiError(503, 'unavailable'), header: { 'retry-after': '0.1' } };
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : down ? busy : ok({ ok: true })), { language: 'en' });
    await flow.start({ scene: SCENE });
    await flow.confirm({});
    // The first try and two automatic ones.
    expect(wx.requests.filter((r) => r.path === '/v1/mp/confirm').length).toBe(3);
    expect(flow.view().result).toMatchObject({ code: 'server', retry: true });
    down = false;
    await flow.retry();
    expect(flow.view().state).toBe('done');
  });

  it('shrinks the avatar with wx.compressImage before uploading it, and uploads the original where it cannot', async () => {
    const upload = () => ok({ avatarUrl: 'https://login.example/v1/avatars/avt_1' });
    const withCompress = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })), { upload });
    const asked: Array<Record<string, unknown>> = [];
    withCompress.wx.compressImage = (o: { src: string; success: (r: { tempFilePath: string }) => void }) => {
      asked.push(o);
      setTimeout(() => o.success({ tempFilePath: 'wxfile://small.jpg' }), 0);
    };
    await withCompress.flow.start({ scene: SCENE });
    await withCompress.flow.uploadAvatar('wxfile://big.png');
    expect(asked[0]).toMatchObject({ src: 'wxfile://big.png', quality: expect.any(Number), compressedWidth: expect.any(Number) });
    expect(withCompress.wx.uploads[0]!.filePath).toBe('wxfile://small.jpg');

    const failing = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })), { upload });
    failing.wx.compressImage = (o: { fail: (e: unknown) => void }) => setTimeout(() => o.fail({ errMsg: 'compressImage:fail' }), 0);
    await failing.flow.start({ scene: SCENE });
    await failing.flow.uploadAvatar('wxfile://big.png');
    expect(failing.wx.uploads[0]!.filePath).toBe('wxfile://big.png');
    expect(failing.flow.view().profile.notice).toBe('');
  });

  it('retries a failed confirm with the same ticket and nickname', async () => {
    let fails = 1;
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : fails-- > 0 ? 'network' : ok({ ok: true })));
    await flow.start({ scene: SCENE });
    await flow.confirm({ nickname: '  小明  ' });
    expect(flow.view().state).toBe('error');
    await flow.retry();
    expect(flow.view().state).toBe('done');
    expect(wx.requests.slice(1).map((r) => r.body)).toEqual([
      { scene: SCENE, ticket: 'tkt_1', profile: { nickname: '小明' } },
      { scene: SCENE, ticket: 'tkt_1', profile: { nickname: '小明' } },
    ]);
  });

  it('says so when wx.login itself fails, and retries it', async () => {
    let loginDown = true;
    const { flow } = setup(() => ok(SCAN_OK), { loginFails: () => loginDown });
    await flow.start({ scene: SCENE });
    expect(flow.view().result).toMatchObject({ code: 'login', retry: true });
    loginDown = false;
    await flow.retry();
    expect(flow.view().state).toBe('review');
  });

  it('believes a reason the login step gives (the sandbox phone knows when a code expired)', async () => {
    const { wx, flow } = setup(() => ok(SCAN_OK), { language: 'en' });
    wx.login = (cb: { fail: (e: unknown) => void }) => setTimeout(() => cb.fail({ errMsg: 'login:fail 410', code: 'session_expired' }), 0);
    await flow.start({ scene: SCENE });
    expect(flow.view().result).toMatchObject({ code: 'expired', retry: false });
  });

  it('uploads a chosen avatar with scene and ticket and sends its URL on confirm', async () => {
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })), {
      upload: () => ok({ avatarUrl: 'https://login.example/v1/avatars/avt_1' }),
    });
    await flow.start({ scene: SCENE });
    const up = flow.uploadAvatar('wxfile://tmp_1.jpg');
    expect(flow.view().profile).toMatchObject({ uploading: true, preview: 'wxfile://tmp_1.jpg' });
    // Confirm while the upload runs: it waits for it instead of dropping the avatar.
    await Promise.all([up, flow.confirm({ nickname: 'Ming' })]);
    expect(wx.uploads[0]).toEqual({ path: '/v1/mp/avatar', filePath: 'wxfile://tmp_1.jpg', name: 'file', formData: { scene: SCENE, ticket: 'tkt_1' } });
    expect(wx.requests[1]!.body.profile).toEqual({ nickname: 'Ming', avatarUrl: 'https://login.example/v1/avatars/avt_1' });
  });

  it('never lets a failed avatar upload block the login', async () => {
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })), {
      language: 'en',
      upload: () => apiError(413, 'payload_too_large'),
    });
    await flow.start({ scene: SCENE });
    await flow.uploadAvatar('wxfile://big.png');
    expect(flow.view().profile).toMatchObject({ uploading: false, preview: '', notice: 'Your avatar could not be uploaded. You can still log in without it.' });
    await flow.confirm({});
    expect(wx.requests[1]!.body).toEqual({ scene: SCENE, ticket: 'tkt_1' });
    expect(flow.view().state).toBe('done');
  });

  it('hides the profile step on base libraries without chooseAvatar / nickname input', () => {
    const { flow } = setup(() => ok(SCAN_OK), { supports: [] });
    expect(flow.view().profile).toMatchObject({ avatar: false, nickname: false });
  });

  it('goes back with navigateBack where exitMiniProgram does not exist', () => {
    const { wx, flow } = setup(() => ok(SCAN_OK));
    delete wx.exitMiniProgram;
    flow.back();
    expect(wx.backs).toBe(1);
  });

  it('ignores a double tap on Confirm', async () => {
    const { wx, flow } = setup((path) => (path === '/v1/mp/scan' ? ok(SCAN_OK) : ok({ ok: true })));
    await flow.start({ scene: SCENE });
    await Promise.all([flow.confirm(), flow.confirm(), flow.cancel()]);
    expect(wx.requests.map((r) => r.path)).toEqual(['/v1/mp/scan', '/v1/mp/confirm']);
  });

  it('formats a location object or string', () => {
    expect(formatLocation('Shanghai, China', 'en')).toBe('Shanghai, China');
    expect(formatLocation({ country: '中国', region: '广东', city: '深圳' }, 'zh-CN')).toBe('中国 广东 深圳');
    expect(formatLocation(undefined, 'en')).toBe('');
  });

  it("puts the server's own place names (private addresses) in the page's language", () => {
    expect(formatLocation('This computer (localhost)', 'zh-CN')).toBe('本机 (localhost)');
    expect(formatLocation('Local network', 'zh-CN')).toBe('局域网');
    expect(formatLocation('This computer (localhost)', 'en')).toBe('This computer (localhost)');
  });
});
