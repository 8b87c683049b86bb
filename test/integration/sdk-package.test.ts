import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { BACKEND_PATH, backendSnippet } from '../../docs/snippets';
import { createTestApp, loginInSandbox } from '../helpers/login';
import { createTestEnv, type TestEnv } from '../helpers/server';

/**
 * The SDK as a tenant installs it: `npm pack` in sdk/, the tarball installed into an empty
 * project (offline: its two dependencies come from this repo's node_modules), then imported by
 * a plain Node process and type-checked by a TypeScript file, against a real server's tokens.
 */
const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
let dir: string;
let env: TestEnv;
let server: RunningServer;

async function node(script: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
  return JSON.parse(stdout);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsl-sdk-'));
  await run('npm', ['pack', '--pack-destination', dir], { cwd: join(repo, 'sdk') });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
  // express too: the docs' backend snippet runs here as a tenant would paste it.
  const deps = { jose: `file:${repo}/node_modules/jose`, zod: `file:${repo}/node_modules/zod`, express: `file:${repo}/node_modules/express` };
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'tenant-backend', private: true, type: 'module', dependencies: deps }));
  const npm = ['--offline', '--no-audit', '--no-fund'];
  await run('npm', ['install', ...npm], { cwd: dir });
  await run('npm', ['install', ...npm, `./${tarball}`], { cwd: dir });
  env = await createTestEnv('sdkpkg');
  server = await env.start();
}, 120_000);

afterAll(async () => {
  await env?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('@wechat-scan-login/verify from its tarball', () => {
  it('is the package the docs name, and its runtime code needs no Node built-ins', async () => {
    const pkgDir = join(dir, 'node_modules/@wechat-scan-login/verify');
    const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    expect(pkg.name).toBe('@wechat-scan-login/verify');
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['jose', 'zod']);
    expect(await readFile(join(repo, 'sdk/README.md'), 'utf8')).toContain(`from '${pkg.name}'`);
    // Deno, Bun and edge workers have WebCrypto and fetch; they need not have node:crypto or Buffer.
    const files = (await readdir(join(pkgDir, 'dist'), { recursive: true })).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const js = await readFile(join(pkgDir, 'dist', f), 'utf8');
      expect(js, f).not.toMatch(/from ['"]node:|require\(|\bBuffer\b|\bprocess\./);
    }
  });

  it('verifies a real sandbox token with the mode of the page\'s key, and refuses it for a live page', async () => {
    const { app, keys } = await createTestApp(server);
    const { token, user } = await loginInSandbox(server.url, keys.test);
    const issuer = `${server.core.config.publicUrl}/apps/${app.id}`;
    const verdict = (pk: string) => node(`
      import { modeOfKey, verifyToken } from '@wechat-scan-login/verify';
      const opts = { appId: ${JSON.stringify(app.id)}, issuer: ${JSON.stringify(issuer)}, mode: modeOfKey(${JSON.stringify(pk)}) };
      verifyToken(${JSON.stringify(token)}, opts).then(
        (claims) => console.log(JSON.stringify({ ok: true, claims })),
        (err) => console.log(JSON.stringify({ ok: false, reason: err.reason, name: err.name })));`);
    expect(await verdict(keys.test.publishable)).toMatchObject({ ok: true, claims: { sub: user.id, openid: user.openid, aud: app.id, iss: issuer, mode: 'test', amr: ['wechat_mp_scan'] } });
    expect(await verdict('pk_live_x')).toEqual({ ok: false, reason: 'wrong_mode', name: 'TokenVerificationError' });
  });

  it('runs the docs\' backend snippet as pasted: a test key\'s page signs in with a sandbox token, a live key\'s page refuses it', async () => {
    const { app, keys } = await createTestApp(server);
    const { token, user } = await loginInSandbox(server.url, keys.test);
    const serve = async (siteKey: string) => {
      const file = join(dir, `backend-${siteKey.slice(0, 7)}.mjs`);
      await writeFile(file, `${backendSnippet({ server: server.core.config.publicUrl, appId: app.id, siteKey })}
const listener = app.listen(0, '127.0.0.1', () => console.log(listener.address().port));\n`);
      const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
      const port = await new Promise<string>((ok, fail) => {
        child.stdout.once('data', (d: Buffer) => ok(d.toString().trim()));
        child.once('exit', (code) => fail(new Error(`the backend snippet exited with ${code}`)));
      });
      try {
        const res = await fetch(`http://127.0.0.1:${port}${BACKEND_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
        return { status: res.status, body: await res.json() as unknown };
      } finally {
        child.kill();
      }
    };
    expect(await serve(keys.test.publishable)).toEqual({ status: 200, body: { userId: user.id } });
    expect(await serve('pk_live_' + 'x'.repeat(32))).toEqual({ status: 401, body: { error: 'wrong_mode' } });
  });

  it('verifies a Standard Webhooks signature with WebCrypto, and says why it refuses one', async () => {
    const secret = 'whsec_' + Buffer.alloc(24, 5).toString('base64');
    const body = JSON.stringify({ type: 'user.created', timestamp: '2026-01-01T00:00:00.000Z', data: { userId: 'usr_1', openid: 'o_1', time: '2026-01-01T00:00:00.000Z' } });
    const now = new Date();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign('msg_1', now, body) };
    const check = (b: string) => node(`
      import { verifyWebhook } from '@wechat-scan-login/verify';
      verifyWebhook(${JSON.stringify(b)}, new Headers(${JSON.stringify(headers)}), ${JSON.stringify(secret)}).then(
        (event) => console.log(JSON.stringify({ ok: true, type: event.type })),
        (err) => console.log(JSON.stringify({ ok: false, reason: err.reason })));`);
    expect(await check(body)).toEqual({ ok: true, type: 'user.created' });
    expect(await check(body.replace('usr_1', 'usr_2'))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('ships types a TypeScript backend can use: the contract\'s claims and webhook events', async () => {
    await writeFile(join(dir, 'check.ts'), `
      import { verifyToken, verifyWebhook, type TokenClaims, type WebhookEvent } from '@wechat-scan-login/verify';
      export async function handle(token: string, body: string, headers: Headers): Promise<string> {
        const claims: TokenClaims = await verifyToken(token, { appId: 'app_x', issuer: 'https://login.example.com/apps/app_x' });
        const event: WebhookEvent = await verifyWebhook(body, headers, 'whsec_x');
        const mode: 'test' | 'live' = claims.mode;
        return event.type === 'login.succeeded' ? event.data.userId + claims.sub + mode : claims.openid;
      }
      // @ts-expect-error a claim the contract does not have
      export const nope = (c: TokenClaims) => c.email;
    `);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2023', 'DOM'], types: [] },
      files: ['check.ts'],
    }));
    const tsc = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir }).then(() => '', (err: { stdout: string }) => err.stdout);
    expect(tsc).toBe('');
  });
});
