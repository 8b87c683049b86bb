import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from './server';

/** Debian's chromium, headless; `npx playwright install` can't work on our machines. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/** Where tests write screenshots; CI keeps the folder as an artifact. */
export function artifactPath(name: string): string {
  const dir = join(process.cwd(), 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/**
 * The usual browser suite: a test database and Redis prefix of the file's own, one server on
 * them and one Chromium, made before the file's tests and closed after them. Read the fields
 * inside tests (they are set in beforeAll).
 */
export function browserStack(label: string): { env: TestEnv; server: RunningServer; browser: Browser } {
  const stack = {} as { env: TestEnv; server: RunningServer; browser: Browser };
  beforeAll(async () => {
    stack.env = await createTestEnv(label);
    stack.server = await stack.env.start();
    stack.browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await stack.browser?.close();
    await stack.env?.dispose();
  });
  return stack;
}
