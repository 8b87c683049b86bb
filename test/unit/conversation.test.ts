import { describe, expect, it } from 'vitest';
import { initial, MESSAGES_PER_WINDOW, reduce, type Effect, type Input, type Model } from '../../server/features/sessions/conversation';
import type { Frame } from '../../server/features/sessions/frames';

const ID = 'A'.repeat(22);
const NEXT = 'B'.repeat(22);
const sessionFrame = (id = ID): Frame & { type: 'session' } => ({ type: 'session', session: id, secret: 'sek', expiresAt: '2030-01-01T00:00:00.000Z', qr: 'q', match: '42' });

/** Feeds inputs in order and returns the last model and every effect produced. */
function run(m: Model, ...inputs: Input[]): [Model, Effect[]] {
  const all: Effect[] = [];
  for (const i of inputs) {
    const [next, effects] = reduce(m, i);
    m = next;
    all.push(...effects);
  }
  return [m, all];
}

const sent = (effects: Effect[]) => effects.flatMap((e) => (e.do === 'send' ? [e.frame.type === 'error' ? `error:${e.frame.code}` : e.frame.type] : []));

function waiting(): Model {
  return run(initial(null, 0), { type: 'start', at: 0 }, { type: 'opened', frame: sessionFrame(), expiresAt: 1000 })[0];
}

describe('the socket conversation (pure reducer)', () => {
  it('opens a session on start, follows it, and sends its frame', () => {
    const [m, effects] = run(initial(null, 0), { type: 'start', at: 0 }, { type: 'opened', frame: sessionFrame(), expiresAt: 1000 });
    expect(effects).toEqual([{ do: 'open', counted: false }, { do: 'follow', id: ID, expiresAt: 1000 }, { do: 'send', frame: sessionFrame() }]);
    expect(m.phase).toBe('waiting');
  });

  it('a replayed scanned hint (bus and resync both) is sent once', () => {
    const [, effects] = run(waiting(), { type: 'event', id: ID, event: 'scanned', detail: '' }, { type: 'event', id: ID, event: 'scanned', detail: '' });
    expect(sent(effects)).toEqual(['scanned']);
  });

  it('confirmed asks the store once even when hinted twice, then delivers the token and closes', () => {
    const [m, effects] = run(
      waiting(),
      { type: 'event', id: ID, event: 'confirmed', detail: '' },
      { type: 'event', id: ID, event: 'confirmed', detail: '' },
    );
    expect(effects.filter((e) => e.do === 'attach')).toHaveLength(1);
    const [done, more] = run(m, { type: 'attached', id: ID, frame: { type: 'success', token: 't', user: { id: 'usr_1', openid: 'o' } }, expiresAt: null });
    expect(done.phase).toBe('done');
    expect(more).toContainEqual({ do: 'close', code: 1000, reason: 'done' });
    // A late answer for the same session changes nothing.
    expect(run(done, { type: 'attached', id: ID, frame: { type: 'error', code: 'session_not_found', message: '' }, expiresAt: null })[1]).toEqual([]);
  });

  it('events for a session the socket no longer follows are ignored', () => {
    const [m] = run(waiting(), { type: 'message', msg: { type: 'refresh' }, at: 1 }, { type: 'opened', frame: sessionFrame(NEXT), expiresAt: 2000 });
    expect(run(m, { type: 'event', id: ID, event: 'confirmed', detail: '' })[1]).toEqual([]);
  });

  it('refresh spends the per-IP session limit; a refusal is told, not fatal', () => {
    const [m, effects] = run(waiting(), { type: 'message', msg: { type: 'refresh' }, at: 1 });
    expect(effects).toContainEqual({ do: 'open', counted: true });
    const [after, refused] = run(m, { type: 'open_refused', code: 'rate_limited', message: 'slow down' });
    expect(sent(refused)).toEqual(['error:rate_limited']);
    expect(after.phase).toBe('ended');
    expect(run(after, { type: 'message', msg: { type: 'refresh' }, at: 2 })[1]).toContainEqual({ do: 'open', counted: true });
  });

  it('a session Redis lost gets a fresh code without a click (not counted), retried if the store is still down', () => {
    const [m, effects] = run(waiting(), { type: 'event', id: ID, event: 'vanished', detail: '' });
    expect(effects).toEqual([{ do: 'open', counted: false }]);
    const [still] = run(m, { type: 'open_failed' });
    expect(still).toMatchObject({ phase: 'waiting', follow: { id: ID } });
    const [, again] = run(still, { type: 'event', id: ID, event: 'vanished', detail: '' }, { type: 'opened', frame: sessionFrame(NEXT), expiresAt: 3000 });
    expect(sent(again)).toEqual(['session']);
  });

  it('the expiry timer says expired even when Redis no longer has the session, and asks again when Redis fails', () => {
    const [, gone] = run(waiting(), { type: 'expiry_due', id: ID, at: 1000 }, { type: 'expiry', id: ID, outcome: 'missing', at: 1000 });
    expect(sent(gone)).toEqual(['expired']);
    const [, failed] = run(waiting(), { type: 'expiry', id: ID, outcome: 'error', at: 1000 });
    expect(failed).toEqual([{ do: 'follow', id: ID, expiresAt: 2000 }]);
    expect(run(waiting(), { type: 'expiry', id: ID, outcome: 'live', at: 1000 })[1]).toEqual([]);
  });

  it('a resume re-attaches, follows and answers the current state; an unknown session closes 4004', () => {
    const [m, effects] = run(initial(ID, 0), { type: 'start', at: 0 }, { type: 'message', msg: { type: 'resume', session: ID, secret: 'sek' }, at: 1 });
    expect(effects).toEqual([{ do: 'attach', id: ID, secret: 'sek' }]);
    const [, answered] = run(m, { type: 'attached', id: ID, frame: { type: 'scanned' }, expiresAt: 5000 });
    expect(answered).toEqual([{ do: 'follow', id: ID, expiresAt: 5000 }, { do: 'send', frame: { type: 'scanned' } }]);
    const [, denied] = run(m, { type: 'attached', id: ID, frame: { type: 'error', code: 'session_not_found', message: 'x' }, expiresAt: null });
    expect(denied).toContainEqual({ do: 'close', code: 4004, reason: 'session_not_found' });
  });

  it('a first open that fails closes 4503; a failed refresh only says unavailable', () => {
    expect(run(initial(null, 0), { type: 'start', at: 0 }, { type: 'open_failed' })[1]).toContainEqual({ do: 'close', code: 4503, reason: 'unavailable' });
    const [, refresh] = run(waiting(), { type: 'message', msg: { type: 'refresh' }, at: 1 }, { type: 'open_failed' });
    expect(sent(refresh)).toEqual(['error:unavailable']);
    expect(refresh.some((e) => e.do === 'close')).toBe(false);
  });

  it('malformed frames get bad_request; too many frames close 4029', () => {
    expect(sent(run(waiting(), { type: 'message', msg: null, at: 1 })[1])).toEqual(['error:bad_request']);
    const flood: Input[] = Array.from({ length: MESSAGES_PER_WINDOW + 1 }, () => ({ type: 'message', msg: { type: 'ping' }, at: 5 }));
    const [m, effects] = run(waiting(), ...flood);
    expect(effects.at(-1)).toEqual({ do: 'close', code: 4029, reason: 'rate_limited' });
    expect(m.phase).toBe('closed');
  });
});
