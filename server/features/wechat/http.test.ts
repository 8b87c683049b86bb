import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL, WechatError } from './errors';
import { readWechatJson, wechatRequest } from './http';

/** The edges of one outbound call that the simulator does not produce. */
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    if (path.startsWith('/moved')) return res.writeHead(302, { location: '/elsewhere' }).end();
    if (path.startsWith('/html')) return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>gateway</h1>');
    if (path.startsWith('/huge')) return res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.alloc(5 * 1024 * 1024));
    if (path.startsWith('/echo')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.concat(chunks)));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

async function failure(p: Promise<unknown>): Promise<WechatError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(WechatError);
  return err as WechatError;
}

describe('wechatRequest', () => {
  it('sends a JSON body and reads the answer with its content type', async () => {
    const res = await wechatRequest('stable_token', `${base}/echo`, { method: 'POST', json: { appid: 'wx1' }, timeoutMs: 2_000 });
    expect(res.contentType).toBe('application/json');
    expect(readWechatJson('stable_token', res)).toEqual({ appid: 'wx1' });
  });

  it('a refused connection is a typed network error that does not repeat the URL (it may carry a secret)', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const err = await failure(wechatRequest('jscode2session', `http://127.0.0.1:${port}/sns/jscode2session?secret=TOPSECRET`, { method: 'GET', timeoutMs: 2_000 }));
    expect(err.errcode).toBe(LOCAL.network);
    expect(JSON.stringify(err.toJSON())).not.toContain('TOPSECRET');
  });

  it('a redirect is not followed: it is an HTTP error', async () => {
    expect((await failure(wechatRequest('jscode2session', `${base}/moved`, { method: 'GET', timeoutMs: 2_000 }))).errcode).toBe(LOCAL.http);
  });

  it('an answer that is not JSON, or too large, is a bad response', async () => {
    const html = await wechatRequest('jscode2session', `${base}/html`, { method: 'GET', timeoutMs: 2_000 });
    expect(html.contentType).toBe('text/html');
    expect(() => readWechatJson('jscode2session', html)).toThrow(expect.objectContaining({ errcode: LOCAL.badResponse }));
    const huge = await failure(wechatRequest('getwxacodeunlimit', `${base}/huge`, { method: 'POST', json: {}, timeoutMs: 5_000 }));
    expect(huge.errcode).toBe(LOCAL.badResponse);
  });
});
