import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestApp } from '../helpers/login';
import { RP_REDIRECT } from '../helpers/oidc';
import { createTestEnv, TEST_MASTER_KEY, type TestEnv } from '../helpers/server';
import { TEST_REDIS_URL } from '../helpers/redis';

const run = promisify(execFile);
let env: TestEnv;
let server: RunningServer;
let app: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  env = await createTestEnv('oidc-cli');
  server = await env.start();
  app = await createTestApp(server);
});
afterAll(async () => {
  await env?.dispose();
});

function cli(...args: string[]) {
  return run('npx', ['tsx', 'server/cli.ts', ...args], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: env.databaseUrl, REDIS_URL: TEST_REDIS_URL, MASTER_KEY: TEST_MASTER_KEY, PUBLIC_URL: server.url, LOG_LEVEL: 'silent' },
  });
}

describe('npm run cli -- oidc-clients:create', () => {
  it('registers a client the provider then authenticates with the printed secret', async () => {
    const { stdout } = await cli('oidc-clients:create', '--app', app.app.id, '--redirect-uri', RP_REDIRECT, '--name', 'From the CLI');
    const created = JSON.parse(stdout);
    expect(created).toMatchObject({ client_id: expect.stringMatching(/^cli_/), client_secret: expect.stringMatching(/^ocs_test_/), mode: 'test', name: 'From the CLI', redirect_uris: [RP_REDIRECT], issuer: `${server.url}/apps/${app.app.id}` });
    const list = await (await fetch(`${server.url}/v1/oidc_clients`, { headers: { authorization: `Bearer ${app.keys.test.secret}` } })).json();
    expect(list.data.map((c: { client_id: string }) => c.client_id)).toContain(created.client_id);
    // Client authentication passes (a bad code is the next thing refused, not the client).
    const token = await fetch(`${created.issuer}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', redirect_uri: RP_REDIRECT }).toString(),
    });
    expect(await token.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses what the API refuses, with one clear line', async () => {
    const err = await cli('oidc-clients:create', '--app', app.app.id, '--mode', 'live', '--redirect-uri', 'http://localhost:3000/cb').catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1, stderr: expect.stringContaining('live-mode clients need https redirect URIs') });
    // A mistake in the command line itself exits 2, as every other command's does; the database is never opened.
    const missing = await cli('oidc-clients:create', '--app', app.app.id).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('--redirect-uri') });
    const unknown = await cli('oidc-clients:create', '--app', app.app.id, '--redirect-uri', RP_REDIRECT, '--bogus').catch((e: { code: number; stderr: string }) => e);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--bogus'[\s\S]*npm run cli -- help/) });
    const badApp = await cli('oidc-clients:create', '--app', 'shop', '--redirect-uri', RP_REDIRECT).catch((e: { code: number; stderr: string }) => e);
    expect(badApp).toMatchObject({ code: 2, stderr: expect.stringContaining('--app is an app id') });
    // A well-formed command whose app does not exist: the work failed, exit 1.
    const noApp = await cli('oidc-clients:create', '--app', 'app_doesnotexist', '--redirect-uri', RP_REDIRECT).catch((e: { code: number; stderr: string }) => e);
    expect(noApp).toMatchObject({ code: 1, stderr: expect.stringContaining('no app app_doesnotexist') });
  });
});
