import { describe, expect, it } from 'vitest';
import { initial, reduce, secondsLeft, type Emit, type Model } from './machine';
import type { ServerFrame, SessionFrame } from './protocol';

const session = (id = 'S1'): SessionFrame => ({ type: 'session', session: id, secret: 'sec', expiresAt: '2030-01-01T00:00:00.000Z', qr: '/qr', match: '42' });

/** Runs frames through the machine from `initial`, collecting every emitted event. */
function run(frames: ServerFrame[], from: Model = initial): { model: Model; events: Emit[] } {
  let model = from;
  const events: Emit[] = [];
  for (const f of frames) {
    const [m, out] = reduce(model, f, 'plain words');
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
    const at = Date.parse('2030-01-01T00:00:00.000Z');
    expect(secondsLeft('2030-01-01T00:00:00.000Z', at - 119_001)).toBe(120);
    expect(secondsLeft('2030-01-01T00:00:00.000Z', at - 500)).toBe(1);
    expect(secondsLeft('2030-01-01T00:00:00.000Z', at + 5_000)).toBe(0);
  });
});
