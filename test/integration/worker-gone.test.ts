import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { renderPage, requirePageModule } from '../../miniprogram/test/harness';
import { createTestApp, postJson, TEST_ORIGIN } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { realWx } from './miniprogram-wx';
import { waitFor } from './webhooks-support';

/**
 * ROLE=api beside a ROLE=worker process that is killed (SIGKILL: no clean shutdown, no goodbye
 * in Redis). With WECHAT_CALLS=queued WeChat calls run only in workers, so the API instance must notice the silence:
 * /readyz says so, and the phone's scan fails fast with a retryable 503 instead of waiting.
 */

let env: TestEnv;
let api: RunningServer;
let worker: ChildProcess | undefined;

beforeAll(async () => {
  env = await createTestEnv('workergone');
  api = await env.start({ ROLE: 'api', WECHAT_CALLS: 'queued' });
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await env?.dispose();
});

function startWorker(): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/integration/webhooks-worker-process.ts'], {
    env: {
      ...process.env,
      DB_URL: env.databaseUrl,
      REDIS_PREFIX: env.redisPrefix,
      // The worker calls the simulator the API instance mounts, as workers call WeChat.
      CONFIG: JSON.stringify({ ROLE: 'worker', SANDBOX_WECHAT_API_BASE: `${api.url}/sandbox/wechat` }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/ready /.test(out)) ok(proc);
    });
    proc.once('exit', (code) => fail(new Error(`worker process exited early (${code})`)));
  });
}

async function readyz() {
  const res = await fetch(`${api.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function newSession(publishable: string): Promise<string> {
  const opened = await fetch(`${api.url}/v1/sessions?key=${publishable}`, { method: 'POST', headers: { origin: TEST_ORIGIN } });
  expect(opened.status).toBe(201);
  return ((await opened.json()) as { session: string }).session;
}

/** A new session and a sandbox phone's scan of it (the scan's jscode2session runs in a worker). */
async function scan(publishable: string) {
  const session = await newSession(publishable);
  const { body: issued } = await postJson(`${api.url}/sandbox/phone/code`, { scene: session, openid: 'o_worker_gone' });
  const res = await fetch(`${api.url}/v1/mp/scan`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scene: session, code: issued.code }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
}

describe('a worker process that is killed', () => {
  it('the API-only instance reports no worker on /readyz and answers scans at once with a retryable 503', async () => {
    const app = await createTestApp(api);
    const pk = app.keys.test.publishable;

    worker = await startWorker();
    await waitFor('a worker on /readyz', async () => (await readyz()).body.workers === 'ok');
    expect(await readyz()).toEqual({ status: 200, body: { postgres: 'ok', redis: 'ok', workers: 'ok' } });
    const fine = await scan(pk);
    expect(fine.status).toBe(200);
    expect(fine.body.ticket).toEqual(expect.any(String));

    const exited = new Promise<void>((ok) => worker!.once('exit', () => ok()));
    worker.kill('SIGKILL');
    await exited;
    worker = undefined;

    // Its heartbeat stops; once it is older than the TTL the instance is not ready.
    await waitFor('no worker on /readyz', async () => (await readyz()).body.workers === 'none', 30_000);
    expect(await readyz()).toEqual({ status: 503, body: { postgres: 'ok', redis: 'ok', workers: 'none' } });

    const refused = await scan(pk);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('unavailable');
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    // Failed fast: nothing was queued for a worker that isn't there.
    expect(await api.core.jobs.queue('wechat').count()).toBe(0);
  }, 60_000);

  it('the real confirm page tries the 503 again itself, then offers Retry, which logs in once a worker is back', async () => {
    // The worker of the test above is gone.
    expect((await readyz()).body.workers).toBe('none');
    const app = await createTestApp(api);
    const scene = await newSession(app.keys.test.publishable);
    requirePageModule<{ serverUrl: string }>('config').serverUrl = api.url;
    const page = renderPage(realWx({ baseUrl: api.url, scene: () => scene, openid: 'o_page_retry', language: 'en' }));
    // Resolves once the page has stopped trying on its own.
    await page.instance.onLoad({ scene });
    expect(page.instance.data.state).toBe('error');
    expect(page.instance.data.result).toMatchObject({ code: 'server', retry: true });

    await env.start({ ROLE: 'worker', SANDBOX_WECHAT_API_BASE: `${api.url}/sandbox/wechat` });
    await waitFor('a worker on /readyz', async () => (await readyz()).body.workers === 'ok');
    await page.instance.onRetry();
    expect(page.instance.data.state).toBe('review');
  }, 60_000);
});
