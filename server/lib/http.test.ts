import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './logger';
import { errorHandler, jsonBody, rejectMalformedUrl, requestId } from './http';

/** The HTTP edge's last line: errors that reach the handler from deep inside still map to a client 400. */
let url: string;
let close: () => void;

beforeAll(async () => {
  const app = express();
  app.use(requestId);
  app.use(rejectMalformedUrl);
  const pg = (code: string) => Object.assign(new Error(`postgres said ${code}`), { code });
  app.get('/wrapped/:code', (req) => {
    // drizzle wraps the driver's error: the SQLSTATE sits on `cause`.
    throw Object.assign(new Error('Failed query: select …'), { cause: pg(String(req.params.code)) });
  });
  app.get('/direct/:code', (req) => {
    throw pg(String(req.params.code));
  });
  app.get('/uri', () => {
    decodeURIComponent('%zz');
  });
  app.get('/other', () => {
    throw new Error('a bug');
  });
  app.post('/json', jsonBody('1kb'), (req, res) => {
    res.json(req.body);
  });
  app.use(errorHandler(createLogger('silent')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((ok) => server.once('listening', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close?.());

async function get(path: string, init?: RequestInit) {
  const res = await fetch(`${url}${path}`, init);
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

describe('errorHandler', () => {
  it.each(['22P05', '22021', '22008', '22003', '22007', '22P02'])('maps PostgreSQL invalid input %s to 400, direct or wrapped', async (code) => {
    for (const path of [`/direct/${code}`, `/wrapped/${code}`]) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error!.code).toBe('bad_request');
    }
  });

  it('keeps other PostgreSQL errors and plain bugs as 500', async () => {
    expect((await get('/direct/23505')).status).toBe(500);
    expect((await get('/wrapped/40001')).status).toBe(500);
    expect((await get('/other')).status).toBe(500);
  });

  it('maps a URIError to 400', async () => {
    expect((await get('/uri')).status).toBe(400);
  });

  it('refuses a NUL anywhere in a JSON body, and bad URLs before any route', async () => {
    const nul = await get('/json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":{"b":["x\\u0000y"]}}' });
    expect(nul.status).toBe(400);
    expect(nul.body.error!.message).toMatch(/NUL/);
    const key = await get('/json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a\\u0000":1}' });
    expect(key.status).toBe(400);
    const fine = await fetch(`${url}/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"ü \\u0001"}' });
    expect(await fine.json()).toEqual({ a: 'ü \u0001' });
    expect((await get('/other/%00')).status).toBe(400);
    expect((await get('/other/%zz')).status).toBe(400);
    expect((await get('/other?q=%00')).status).toBe(400);
  });
});
