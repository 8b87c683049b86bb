/**
 * A `wx` for the confirm page that reaches a real server: request and uploadFile are real
 * HTTP calls (fetch), login asks the sandbox for a wx.login code of this visitor's openid,
 * exactly as the sandbox phone page does. `offline` sends requests to a closed port so
 * they fail the way wx.request fails without a network.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

type Cb = { success?: (r: unknown) => void; fail?: (e: unknown) => void };

export interface RealWx {
  offline: boolean;
  exits: number;
  [api: string]: unknown;
}

/** Nothing listens on port 9 (discard) on test machines: connection refused. */
const DEAD = 'http://127.0.0.1:9';

export function realWx(opts: { baseUrl: string; scene: () => string; openid: string; language?: string; supports?: string[] }): RealWx {
  const wx: RealWx = {
    offline: false,
    exits: 0,
    getSystemInfoSync: () => ({ language: opts.language ?? 'zh_CN' }),
    canIUse: (what: string) => (opts.supports ?? ['button.open-type.chooseAvatar', 'input.type.nickname']).includes(what),
    login(cb: Cb) {
      const base = wx.offline ? DEAD : opts.baseUrl;
      fetch(`${base}/sandbox/phone/code`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scene: opts.scene(), openid: opts.openid }) })
        .then(async (res) => {
          const body = (await res.json()) as { code?: string; error?: { code: string } };
          if (res.ok && body.code) cb.success?.({ code: body.code, errMsg: 'login:ok' });
          // As the sandbox phone page does: say why the simulator gave no code.
          else cb.fail?.({ errMsg: `login:fail ${res.status}`, code: body.error?.code });
        })
        .catch(() => cb.fail?.({ errMsg: 'login:fail' }));
    },
    request(req: Cb & { url: string; method?: string; data?: unknown; header?: Record<string, string> }) {
      const url = wx.offline ? req.url.replace(opts.baseUrl, DEAD) : req.url;
      fetch(url, { method: req.method ?? 'GET', headers: req.header, body: req.data === undefined ? undefined : JSON.stringify(req.data) })
        .then(async (res) => {
          const text = await res.text();
          let data: unknown = text;
          try {
            data = JSON.parse(text);
          } catch {
            // wx.request leaves non-JSON bodies as strings
          }
          req.success?.({ statusCode: res.status, data, header: Object.fromEntries(res.headers) });
        })
        .catch((e: Error) => req.fail?.({ errMsg: `request:fail ${e.message}` }));
    },
    uploadFile(req: Cb & { url: string; filePath: string; name: string; formData?: Record<string, string> }) {
      const url = wx.offline ? req.url.replace(opts.baseUrl, DEAD) : req.url;
      readFile(req.filePath)
        .then((bytes) => {
          const form = new FormData();
          for (const [k, v] of Object.entries(req.formData ?? {})) form.append(k, v);
          form.append(req.name, new Blob([new Uint8Array(bytes)]), basename(req.filePath));
          return fetch(url, { method: 'POST', body: form });
        })
        .then(async (res) => req.success?.({ statusCode: res.status, data: await res.text() }))
        .catch((e: Error) => req.fail?.({ errMsg: `uploadFile:fail ${e.message}` }));
    },
    setNavigationBarTitle: () => {},
    exitMiniProgram: () => {
      wx.exits++;
    },
  };
  return wx;
}
