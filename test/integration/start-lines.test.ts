/**
 * `npm start`'s command-line start (server/main.ts run as a program): besides the JSON logs it
 * prints the URLs a person opens, as plain lines.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/db';
import { TEST_REDIS_URL, testRedisPrefix } from '../helpers/redis';
import { TEST_MASTER_KEY } from '../helpers/server';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const redis = testRedisPrefix('startlines');

beforeAll(async () => {
  db = await createTestDatabase('startlines');
});
afterAll(async () => {
  await db?.drop();
  await redis.cleanup();
});

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((ok) => s.once('listening', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

it('prints the demo, console and sandbox phone URLs as plain lines', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'server/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      MASTER_KEY: TEST_MASTER_KEY,
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((ok) => child.once('exit', ok));
  try {
    await expect.poll(() => out, { timeout: 45_000 }).toContain('Sandbox phone:');
    expect(out).toContain(`Demo:          http://localhost:${port}/\n`);
    expect(out).toContain(`Console:       http://localhost:${port}/console/\n`);
    expect(out).toContain(`Sandbox phone: http://localhost:${port}/sandbox/phone?scene=`);
    // The lines are true: each of those pages answers.
    for (const path of ['/', '/console/', '/sandbox/phone']) expect((await fetch(`http://localhost:${port}${path}`)).status, path).toBe(200);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}, 60_000);
