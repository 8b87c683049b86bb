import { describe, expect, it } from 'vitest';
import { parseFrame } from './protocol';

describe('server frame parser', () => {
  it('accepts the contract frames, as text or objects', () => {
    const s = { type: 'session', session: 'S', secret: 'x', expiresAt: '2030-01-01T00:00:00Z', qr: '/v1/sessions/S/qr', match: '07', urlLink: 'https://wxaurl.cn/x' };
    expect(parseFrame(JSON.stringify(s))).toEqual(s);
    expect(parseFrame({ type: 'scanned' })).toEqual({ type: 'scanned' });
    expect(parseFrame('{"type":"success","token":"t","user":{"id":"usr_1"}}')).toEqual({ type: 'success', token: 't', user: { id: 'usr_1' } });
    expect(parseFrame({ type: 'error', code: 'invalid_key', message: 'm' })).toMatchObject({ type: 'error', code: 'invalid_key', message: 'm' });
  });

  it('returns null for malformed, incomplete and unknown frames', () => {
    expect(parseFrame('not json')).toBeNull();
    expect(parseFrame('null')).toBeNull();
    expect(parseFrame({ type: 'pong' })).toBeNull();
    expect(parseFrame({ type: 'session', session: 'S', secret: 'x' })).toBeNull();
    expect(parseFrame({ type: 'success' })).toBeNull();
    expect(parseFrame(42)).toBeNull();
  });

  it('gives an error frame without a code the generic code', () => {
    expect(parseFrame({ type: 'error' })).toMatchObject({ type: 'error', code: 'error' });
  });
});
