import { describe, expect, it } from 'vitest';
import { codeEnd, GRACE_MS, initial, isFinal, overdue, reduce, secondsLeft, type Emit, type Input, type Model } from './machine';
import type { SessionFrame } from './protocol';

const session = (id = 'S1'): SessionFrame => ({ type: 'session', session: id, secret: 'sec', expiresAt: '2030-01-01T00:00:00.000Z', qr: '/qr', match: '42' });

const NOW = Date.parse('2029-12-31T23:58:00.000Z');

/** Runs inputs through the machine from `initial`, collecting every emitted event. */
function run(frames: Input[], from: Model = initial): { model: Model; events: Emit[] } {
  let model = from;
  const events: Emit[] = [];
  for (const f of frames) {
    const [m, out] = reduce(model, f, 'plain words', NOW);
    model = m;
    events.push(...out);
  }
  return { model, events };
}

describe('widget state machine', () => {
  it('walks loading → ready → scanned → success with one event per step', () => {
    const { model, events } = run([session(), { type: 'scanned' }, { type: 'success', token: 'jwt', user: { id: 'usr_1' } }]);
    expect(model.state).toBe('success');
    expect(events).toEqual([
      ['statechange', { state: 'ready' }],
      ['statechange', { state: 'scanned' }],
      ['scanned', null],
      ['statechange', { state: 'success' }],
      ['login', { token: 'jwt', user: { id: 'usr_1' } }],
    ]);
  });

  it('ignores replayed frames after a resume, so no event fires twice', () => {
    const { model, events } = run([session(), { type: 'scanned' }, session(), { type: 'scanned' }]);
    expect(model.state).toBe('scanned');
    expect(events.filter(([n]) => n == 'scanned')).toHaveLength(1);
  });

  it('ends in cancelled or expired only from a live session', () => {
    expect(run([{ type: 'cancelled' }], run([session()]).model).events).toEqual([['statechange', { state: 'cancelled' }], ['cancelled', null]]);
    expect(run([session(), { type: 'scanned' }, { type: 'expired' }]).model.state).toBe('expired');
    // Nothing to expire while still loading, and nothing after success.
    expect(run([{ type: 'expired' }]).model.state).toBe('loading');
    expect(run([session(), { type: 'success', token: 't', user: {} }, { type: 'cancelled' }]).model.state).toBe('success');
  });

  it('turns an error frame into failed with the server message, or the plain words without one', () => {
    const withMessage = run([{ type: 'error', code: 'invalid_key', message: 'unknown key' }]);
    expect(withMessage.model).toMatchObject({ state: 'error', error: { code: 'invalid_key' } });
    expect(withMessage.events).toEqual([['statechange', { state: 'error' }], ['failed', { code: 'invalid_key', message: 'unknown key' }]]);
    expect(run([{ type: 'error', code: 'offline' }]).events[1]).toEqual(['failed', { code: 'offline', message: 'plain words' }]);
  });

  it('accepts a fresh session after a terminal state (refresh), but not a stray error', () => {
    const expired = run([session('A'), { type: 'expired' }]).model;
    expect(run([{ type: 'error', code: 'x' }], expired).model.state).toBe('expired');
    const again = run([session('B')], expired);
    expect(again.model).toMatchObject({ state: 'ready', session: { session: 'B' } });
    expect(again.events).toEqual([['statechange', { state: 'ready' }]]);
  });

  it('counts seconds left down to zero, never below', () => {
    expect(secondsLeft(NOW + 119_001, NOW)).toBe(120);
    expect(secondsLeft(NOW + 500, NOW)).toBe(1);
    expect(secondsLeft(NOW, NOW + 5_000)).toBe(0);
  });

  it('ends the code by this clock, clamped to the TTLs an app can have', () => {
    expect(codeEnd('2030-01-01T00:00:00.000Z', NOW)).toBe(NOW + 120_000);
    // A visitor clock minutes ahead (or behind) never ends a fresh code at once, nor never.
    expect(codeEnd('2030-01-01T00:00:00.000Z', NOW + 3_600_000)).toBe(NOW + 3_600_000 + 30_000);
    expect(codeEnd('2030-01-01T00:00:00.000Z', NOW - 3_600_000)).toBe(NOW - 3_600_000 + 600_000);
    expect(codeEnd('garbage', NOW)).toBe(NOW + 30_000);
    expect(run([session()]).model.endsAt).toBe(NOW + 120_000);
  });
});

describe('the connection riding out outages', () => {
  it('marks a live session reconnecting, keeps its state and events, and clears the mark on any answer', () => {
    const ready = run([session()]).model;
    const down = run([{ type: 'reconnecting' }, { type: 'reconnecting' }], ready);
    expect(down.model).toMatchObject({ state: 'ready', reconnecting: true, session: { session: 'S1' } });
    expect(down.events).toEqual([]);
    // The resume answers the same session: no new code, no event, just back up.
    const back = run([session()], down.model);
    expect(back.model).toMatchObject({ state: 'ready', reconnecting: false, session: { session: 'S1' } });
    expect(back.events).toEqual([]);
    // A confirmation made while the link was down arrives once, after the resume.
    const done = run([{ type: 'reconnecting' }, { type: 'success', token: 'jwt', user: {} }], ready);
    expect(done.model).toMatchObject({ state: 'success', reconnecting: false });
    expect(done.events.filter(([n]) => n == 'login')).toHaveLength(1);
  });

  it('reconnects while still loading, then shows the first code', () => {
    const { model, events } = run([{ type: 'reconnecting' }, session()]);
    expect(model).toMatchObject({ state: 'ready', session: { session: 'S1' } });
    expect(model.reconnecting).toBeFalsy();
    expect(events).toEqual([['statechange', { state: 'ready' }]]);
  });

  it('never marks a finished session reconnecting', () => {
    const cancelled = run([session(), { type: 'cancelled' }]).model;
    expect(run([{ type: 'reconnecting' }], cancelled).model).toBe(cancelled);
  });

  it('takes a fresh session at any time but after success (the server lost the old one)', () => {
    const lost = run([session('A'), { type: 'scanned' }, { type: 'reconnecting' }, session('B')]);
    expect(lost.model).toMatchObject({ state: 'ready', session: { session: 'B' } });
    expect(lost.model.reconnecting).toBeFalsy();
    expect(lost.events.slice(-1)).toEqual([['statechange', { state: 'ready' }]]);
    const done = run([session('A'), { type: 'success', token: 't', user: {} }]).model;
    expect(run([session('B')], done).model).toBe(done);
  });

  it("expires by its own deadline when the server never says so, and only once", () => {
    const ready = run([session()]).model;
    expect(overdue(ready, ready.endsAt! + GRACE_MS - 1)).toBe(false);
    expect(overdue(ready, ready.endsAt! + GRACE_MS)).toBe(true);
    const scanned = run([{ type: 'scanned' }, { type: 'reconnecting' }], ready).model;
    expect(overdue(scanned, ready.endsAt! + GRACE_MS)).toBe(true);
    const ended = run([{ type: 'deadline' }, { type: 'expired' }, { type: 'deadline' }], scanned);
    expect(ended.model).toMatchObject({ state: 'expired', reconnecting: false });
    expect(ended.events).toEqual([['statechange', { state: 'expired' }], ['expired', null]]);
    expect(overdue(ended.model, Infinity)).toBe(false);
    expect(run([{ type: 'deadline' }]).model.state).toBe('loading');
  });

  it('calls only configuration errors final', () => {
    expect(['invalid_key', 'origin_not_allowed', 'no_server'].every(isFinal)).toBe(true);
    expect(['offline', 'rate_limited', 'quota_exceeded', 'session_not_found', 'wechat_error', 'unavailable'].some(isFinal)).toBe(false);
  });
});
