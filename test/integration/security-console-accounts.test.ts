/**
 * Console account safety (issue 11 items 4, 5, 6, 16): sign-up reveals nothing, weak passwords
 * are refused, an attacker can't lock the owner out, and the per-IP limits hold. Each client
 * comes from its own address through the loopback proxy the test servers trust.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounts } from '../../server/db/schema/index';
import { LIMITS } from '../../server/features/console/auth/limiter';
import type { RunningServer } from '../../server/main';
import { createTestEnv, type TestEnv } from '../helpers/server';
import { ConsoleClient, type Reply } from './console-client';

let env: TestEnv;
let s: RunningServer;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  env = await createTestEnv('secaccounts');
  s = await env.start();
});
afterAll(async () => {
  await env?.dispose();
});

const from = (ip: string) => new ConsoleClient(s.url, { ip });

/** Everything a client can observe about an answer, except what differs on every request anyway. */
function observable(r: Reply) {
  const headers = [...r.headers].filter(([k]) => k !== 'date' && k !== 'x-request-id');
  return { status: r.status, body: r.body, headers };
}

describe('sign-up does not reveal which emails have accounts', () => {
  it('answers a known email exactly like a new one, and changes nothing for the known one', async () => {
    const owner = from('198.51.100.1');
    const before = await owner.signUp('known@example.com', PASSWORD, 'Original Org');
    const [row] = await s.core.db.select().from(accounts).where(eq(accounts.email, 'known@example.com'));

    const fresh = await from('198.51.100.2').call('POST', '/auth/signup', { email: 'fresh@example.com', password: 'purple elephant on a bicycle', organisation: 'Other Org' });
    const known = await from('198.51.100.3').call('POST', '/auth/signup', { email: 'Known@Example.com', password: 'purple elephant on a bicycle', organisation: 'Other Org' });
    expect(fresh.status).toBe(202);
    expect(observable(known)).toEqual(observable(fresh));
    expect(known.headers.getSetCookie()).toEqual([]);

    // Nothing about the existing account changed, and no second one exists.
    const rows = await s.core.db.select().from(accounts).where(eq(accounts.email, 'known@example.com'));
    expect(rows).toEqual([row]);
    expect((await from('198.51.100.3').post('/auth/signin', { email: 'known@example.com', password: 'purple elephant on a bicycle' })).status).toBe(401);
    const again = await from('198.51.100.1').post('/auth/signin', { email: 'known@example.com', password: PASSWORD });
    expect(again.status).toBe(200);
    expect(again.body.account.id).toBe(before.account.id);
    expect(again.body.tenants).toEqual(before.tenants);

    // The newcomer's account exists and is theirs.
    const newcomer = await from('198.51.100.2').post('/auth/signin', { email: 'fresh@example.com', password: 'purple elephant on a bicycle' });
    expect(newcomer.status).toBe(200);
    expect(newcomer.body.tenants).toEqual([expect.objectContaining({ name: 'Other Org', role: 'owner' })]);
  }, 120_000);
});

describe('new passwords are checked by an estimator', () => {
  it.each([
    ['password1234', /commonly used password/],
    ['aaaaaaaaaa', /repeated characters/],
    ['qwertyuiopas', /keyboard|commonly used/],
    ['weakling@example.com', /your email address or name/],
  ])('refuses %s with a clear reason and creates nothing', async (password, why) => {
    const r = await from('198.51.100.20').post('/auth/signup', { email: 'weakling@example.com', password });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^body\.password: is too easy to guess/);
    expect(r.body.error.message).toMatch(why);
    expect(await s.core.db.select().from(accounts).where(eq(accounts.email, 'weakling@example.com'))).toEqual([]);
  });
});

describe('an attacker cannot lock the owner out', () => {
  it('limits guesses per (email, IP) and, from strangers, per email; the owner at home still gets in', async () => {
    const email = 'lockout@example.com';
    await from('198.51.100.30').signUp(email, PASSWORD);
    const guess = (ip: string, i: number) => from(ip).post('/auth/signin', { email, password: `wrong guess number ${i}` });

    // Two attacker addresses spend the per-(email, IP) budget each, and with it the per-email one.
    const perPlace = LIMITS.signInPerEmailAndIp.points;
    expect(perPlace * 2).toBe(LIMITS.signInPerEmail.points);
    for (const ip of ['203.0.113.1', '203.0.113.2']) {
      const statuses: number[] = [];
      for (let i = 0; i < perPlace; i++) statuses.push((await guess(ip, i)).status);
      expect(statuses, ip).toEqual(Array(perPlace).fill(401));
    }
    expect((await guess('203.0.113.1', 99)).status).toBe(429);
    // A third stranger is refused even with the right password (and learns nothing from it)...
    const stranger = await from('203.0.113.3').post('/auth/signin', { email, password: PASSWORD });
    expect(stranger.status).toBe(429);
    expect(stranger.body.error.message).toMatch(/Try again in \d+ minute/);
    // ...while the owner, at the place they signed in from before, gets in.
    const owner = await from('198.51.100.30').post('/auth/signin', { email, password: PASSWORD });
    expect(owner.status).toBe(200);
    // The owner's own place still has its own budget for typos.
    expect((await from('198.51.100.30').post('/auth/signin', { email, password: 'a typo in it' })).status).toBe(401);
  }, 240_000);
});

describe('per-IP limits of the console', () => {
  it('sign-in: one address trying many accounts is stopped, other addresses are not', async () => {
    const victim = 'per-ip-victim@example.com';
    await from('198.51.100.40').signUp(victim, PASSWORD);
    const ip = '203.0.113.40';
    const statuses: number[] = [];
    // Guesses at one unknown email: the per-place limit stops the password checks after its
    // budget, and every attempt still counts against the address.
    for (let i = 0; i < LIMITS.signInPerIp.points; i++) {
      statuses.push((await from(ip).post('/auth/signin', { email: 'nobody@example.com', password: 'not the password' })).status);
    }
    const perPlace = LIMITS.signInPerEmailAndIp.points;
    expect(statuses).toEqual([...Array(perPlace).fill(401), ...Array(LIMITS.signInPerIp.points - perPlace).fill(429)]);
    const blocked = await from(ip).post('/auth/signin', { email: victim, password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect((await from('198.51.100.40').post('/auth/signin', { email: victim, password: PASSWORD })).status).toBe(200);
  }, 240_000);

  it('sign-up: one address creating many accounts is stopped, other addresses are not', async () => {
    const ip = '203.0.113.50';
    for (let i = 0; i < LIMITS.signUpPerIp.points; i++) {
      expect((await from(ip).post('/auth/signup', { email: 'not-an-email' })).status).toBe(400);
    }
    const refused = await from(ip).post('/auth/signup', { email: 'late@example.com', password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(await s.core.db.select().from(accounts).where(eq(accounts.email, 'late@example.com'))).toEqual([]);
    expect((await from('203.0.113.51').post('/auth/signup', { email: 'late@example.com', password: PASSWORD })).status).toBe(202);
  }, 60_000);
});
