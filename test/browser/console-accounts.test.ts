/**
 * Issue 23's promise in Chromium, with mail through a real SMTP server: a new owner signs up,
 * confirms the email from the mailed link, signs out, resets a forgotten password, turns on
 * two-factor, signs in with a code, and finds each of those in the audit log.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/main';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { startMailbox, totpCode } from '../integration/console-accounts-support';

let env: TestEnv;
let s: RunningServer;
let browser: Browser;
let mail: Awaited<ReturnType<typeof startMailbox>>;
const EMAIL = 'founder@startup.example';

beforeAll(async () => {
  mail = await startMailbox();
  env = await createTestEnv('accountsbrowser');
  s = await env.start({ SMTP_URL: mail.url });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
  await mail?.close();
});

const linkIn = (text: string) => /https?:\/\/\S+/.exec(text)![0];

async function signIn(p: Page, password: string) {
  await p.getByLabel('Email').fill(EMAIL);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}

describe('console accounts in a browser', () => {
  it('verifies, resets, turns on two-factor and shows each in the audit log', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    try {
      await p.goto(`${s.url}/console/signup`);
      await p.getByLabel('Email').fill(EMAIL);
      await p.getByLabel('Organisation').fill('Startup');
      await p.getByLabel('Password').fill('first long password here');
      await p.getByRole('button', { name: 'Create account' }).click();
      await p.getByRole('heading', { name: 'Check your email' }).waitFor();

      // The link from the mail: it lands on the verify page, and the token leaves the address bar.
      const verifyLink = linkIn((await mail.next(EMAIL, /Confirm your email/)).text);
      expect(verifyLink.startsWith(`${s.url}/console/verify?token=`)).toBe(true);
      await p.goto(verifyLink);
      await p.getByRole('heading', { name: 'Email confirmed' }).waitFor();
      expect(p.url()).toBe(`${s.url}/console/verify`);
      await p.getByRole('link', { name: 'Sign in' }).click();
      await signIn(p, 'first long password here');
      await p.getByRole('button', { name: 'Sign out' }).click();

      // Forgot password → mail → new password.
      await p.getByRole('link', { name: 'Forgot password?' }).click();
      await p.getByLabel('Email').fill(EMAIL);
      const seen = mail.received.length;
      await p.getByRole('button', { name: 'Email me a link' }).click();
      await p.getByRole('heading', { name: 'Check your email' }).waitFor();
      const resetLink = linkIn((await mail.next(EMAIL, /Reset your/, seen)).text);
      await p.goto(resetLink);
      await p.getByLabel('New password').fill('second long password here');
      await p.getByRole('button', { name: 'Set the new password' }).click();
      await p.getByRole('heading', { name: 'Password changed' }).waitFor();
      // The same link a second time is refused.
      await p.goto(resetLink);
      await p.getByLabel('New password').fill('third long password here');
      await p.getByRole('button', { name: 'Set the new password' }).click();
      await p.getByText(/already used, has expired/).waitFor();
      await p.goto(`${s.url}/console/signin`);
      await signIn(p, 'second long password here');

      // Security: enrol with the QR code's key, confirm with a code.
      await p.getByRole('link', { name: 'Security' }).click();
      await p.getByRole('button', { name: 'Set up two-factor' }).click();
      await p.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
      const secret = (await p.locator('#totp-secret').textContent())!.trim();
      await p.getByLabel('Code').fill(await totpCode(secret, -1));
      await p.getByRole('button', { name: 'Turn on two-factor' }).click();
      await p.getByText('Keep these recovery codes').waitFor();
      expect(await p.locator('.recovery-codes li').count()).toBe(10);
      await p.screenshot({ path: artifactPath('console-2fa.png'), fullPage: true });
      await p.getByRole('button', { name: 'Sign out' }).click();

      // Sign-in now asks for the code.
      await signIn(p, 'second long password here');
      await p.getByRole('heading', { name: 'Two-factor sign-in' }).waitFor();
      await p.getByLabel('Code from your authenticator app').fill(await totpCode(secret, 0));
      await p.getByRole('button', { name: 'Verify' }).click();

      await p.getByRole('link', { name: 'Audit log' }).click();
      await p.getByRole('heading', { name: 'Audit log' }).waitFor();
      for (const action of ['account.email_verified', 'account.password_reset', 'account.2fa_enabled', 'account.signed_in']) {
        await p.locator('td code', { hasText: action }).first().waitFor();
      }
      await p.screenshot({ path: artifactPath('console-audit.png'), fullPage: true });
    } finally {
      await ctx.close();
    }
  }, 120_000);
});
