/** The public mini-program API as an attacker holding a scanner's ticket would use it. */
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestApp, openSocket, postJson, testScan } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  env = await createTestEnv('secmp');
  server = await env.start();
  app = await createTestApp(server);
});
afterAll(() => env.dispose());

async function scanned() {
  const sock = await openSocket(server.url, app.keys.test.publishable);
  const scene = String((await sock.next('session')).session);
  const scan = await testScan(server.url, app.keys.test.secret, scene, `o_sec_${scene.slice(0, 8).replace(/[^A-Za-z0-9]/g, 'x')}`);
  expect(scan.status).toBe(200);
  await sock.next('scanned');
  return { sock, scene, ticket: String(scan.body.ticket) };
}

describe('confirm profile', () => {
  it.each([
    'https://tracker.example/pixel.png',
    'http://127.0.0.1/console/api/auth/signout',
    'https://login.example.com.evil.example/v1/avatars/avt_AAAAAAAAAAAAAAAA',
  ])('refuses an avatarUrl that is not one of our uploaded avatars: %s', async (avatarUrl) => {
    const { sock, scene, ticket } = await scanned();
    const r = await postJson(`${server.url}/v1/mp/confirm`, { scene, ticket, profile: { nickname: 'Eve', avatarUrl } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/avatarUrl/);
    sock.close();
  });

  it('accepts the URL the avatar upload answered, and it becomes the picture claim', async () => {
    const { sock, scene, ticket } = await scanned();
    const form = new FormData();
    form.append('scene', scene);
    form.append('ticket', ticket);
    form.append('file', new Blob([new Uint8Array(await QRCode.toBuffer('me'))]), 'tmp.png');
    const up = await fetch(`${server.url}/v1/mp/avatar`, { method: 'POST', body: form });
    const { avatarUrl } = (await up.json()) as { avatarUrl: string };
    const r = await postJson(`${server.url}/v1/mp/confirm`, { scene, ticket, profile: { avatarUrl } });
    expect(r).toEqual({ status: 200, body: { ok: true } });
    const success = await sock.next('success');
    expect((success.user as Record<string, string>).picture ?? (success.user as Record<string, string>).avatarUrl).toBe(avatarUrl);
    sock.close();
  });
});
