import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_ATTEMPTS } from './backoff';
import type { ServerFrame } from './protocol';
import { connect, type TransportOptions } from './transport';

/** A scriptable WebSocket: the test opens, feeds and drops it. */
class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  sent: string[] = [];
  closedWith: number | undefined;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code: number) {
    this.closedWith = code;
  }
  open() {
    this.onopen?.({});
  }
  frame(f: object) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code = 1006) {
    this.onclose?.({ code });
  }
}

/** A fetch whose answers the test gives one call at a time. */
function fakeFetch() {
  const calls: Array<{ url: string; init: RequestInit; answer(status: number, body?: unknown): void; fail(): void }> = [];
  const fn = (url: string, init: RequestInit) =>
    new Promise<Response>((ok, fail) => {
      init.signal?.addEventListener('abort', () => fail(new DOMException('aborted', 'AbortError')));
      calls.push({
        url,
        init,
        answer: (status, body) => ok(new Response(body === undefined ? null : JSON.stringify(body), { status })),
        fail: () => fail(new TypeError('network')),
      });
    });
  return { calls, fn: fn as unknown as typeof fetch };
}

const sessionFrame = { type: 'session', session: 'SESSION_ID_22_CHARS___', secret: 's3cret', expiresAt: '2030-01-01T00:00:00Z', qr: '/qr', match: '42' };

function start(extra: Partial<TransportOptions> = {}) {
  const frames: Array<ServerFrame | { type: 'reconnecting' }> = [];
  const t = connect({
    server: 'https://login.example.com/',
    siteKey: 'pk_test_abc',
    onFrame: (f) => frames.push(f),
    random: () => 1,
    WebSocket: FakeSocket as unknown as typeof WebSocket,
    ...extra,
  });
  return { t, frames, sock: () => FakeSocket.all.at(-1)! };
}

/** Lets awaited promises inside the transport run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('transport over WebSocket', () => {
  it('opens /v1/ws with the key and stops itself at success', () => {
    const { frames, sock } = start();
    expect(sock().url).toBe('wss://login.example.com/v1/ws?key=pk_test_abc');
    sock().open();
    sock().frame(sessionFrame);
    sock().frame({ type: 'scanned' });
    sock().frame({ type: 'pong' });
    sock().frame({ type: 'success', token: 'jwt', user: {} });
    expect(frames.map((f) => f.type)).toEqual(['session', 'scanned', 'success']);
    expect(sock().closedWith).toBe(1000);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('after a drop, reconnects with backoff and resumes the session with its secret', () => {
    const { frames, sock } = start();
    sock().open();
    sock().frame(sessionFrame);
    sock().drop(1006);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(499);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sock().url).toBe('wss://login.example.com/v1/ws?key=pk_test_abc&session=SESSION_ID_22_CHARS___');
    sock().open();
    expect(JSON.parse(sock().sent[0]!)).toEqual({ type: 'resume', session: 'SESSION_ID_22_CHARS___', secret: 's3cret' });
    sock().frame({ type: 'scanned' });
    expect(frames.map((f) => f.type)).toEqual(['session', 'reconnecting', 'scanned']);
  });

  it('rides out close 4503 unavailable: reconnecting, backoff, resume, and no error at all', () => {
    const { frames, sock } = start();
    sock().open();
    sock().frame(sessionFrame);
    for (let i = 0; i < 3; i++) {
      sock().frame({ type: 'error', code: 'unavailable', message: 'briefly unavailable' });
      sock().drop(4503);
      vi.advanceTimersByTime(10_000);
      expect(sock().url).toContain('&session=SESSION_ID_22_CHARS___');
      sock().open();
    }
    sock().frame(sessionFrame);
    expect(frames.map((f) => f.type)).toEqual(['session', 'reconnecting', 'reconnecting', 'reconnecting', 'session']);
    expect(FakeSocket.all).toHaveLength(4);
  });

  it('retries on an unavailable error frame even when the server keeps the socket open', () => {
    const { frames, sock } = start();
    sock().open();
    sock().frame(sessionFrame);
    sock().drop(1006);
    vi.advanceTimersByTime(500);
    sock().open();
    sock().frame({ type: 'error', code: 'unavailable', message: 'briefly unavailable' });
    expect(sock().closedWith).toBe(1000);
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all).toHaveLength(3);
    expect(sock().url).toContain('&session=SESSION_ID_22_CHARS___');
    expect(frames.map((f) => f.type)).toEqual(['session', 'reconnecting', 'reconnecting']);
  });

  it('retries a 4503 refusal before the first code too, even without its error frame', () => {
    const { frames, sock } = start();
    sock().open();
    sock().drop(4503);
    vi.advanceTimersByTime(500);
    expect(sock().url).toBe('wss://login.example.com/v1/ws?key=pk_test_abc');
    sock().open();
    sock().frame(sessionFrame);
    expect(frames.map((f) => f.type)).toEqual(['reconnecting', 'session']);
  });

  it('spaces retries out with jittered backoff', () => {
    const { sock } = start({ random: () => 0 });
    sock().open();
    sock().drop(1006);
    // random() = 0 takes the bottom of the jitter range: half of 500 ms.
    vi.advanceTimersByTime(249);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('keeps the session across repeated failed reconnects, then says offline', () => {
    const { frames, sock } = start();
    sock().open();
    sock().frame(sessionFrame);
    for (let i = 1; i < MAX_ATTEMPTS; i++) {
      sock().drop(1006);
      vi.advanceTimersByTime(10_000);
      expect(sock().url).toContain('&session=SESSION_ID_22_CHARS___');
    }
    sock().drop(1006);
    expect(frames.at(-1)).toEqual({ type: 'error', code: 'offline' });
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(MAX_ATTEMPTS);
  });

  it('a refused socket gives exactly one error and no reconnect', () => {
    const { frames, sock } = start();
    sock().open();
    sock().frame({ type: 'error', code: 'invalid_key', message: 'unknown key' });
    sock().drop(4001);
    expect(frames).toEqual([{ type: 'error', code: 'invalid_key', message: 'unknown key' }]);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('names the refusal from the close code when the error frame was lost', () => {
    const { frames, sock } = start();
    sock().open();
    sock().drop(4003);
    expect(frames).toEqual([{ type: 'error', code: 'origin_not_allowed' }]);
  });

  it('drops a silent socket once the server has shown it answers pings', () => {
    const { sock } = start();
    sock().open();
    sock().frame(sessionFrame);
    vi.advanceTimersByTime(20_000);
    expect(sock().sent).toEqual(['{"type":"ping"}']);
    sock().frame({ type: 'pong' });
    vi.advanceTimersByTime(60_000);
    expect(sock().closedWith).toBe(1000);
    vi.advanceTimersByTime(500);
    expect(FakeSocket.all).toHaveLength(2);
    expect(sock().url).toContain('&session=');
  });

  it('never drops a quiet socket on a server that sends no pongs', () => {
    const { sock } = start();
    sock().open();
    sock().frame(sessionFrame);
    vi.advanceTimersByTime(200_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(sock().closedWith).toBeUndefined();
  });

  it('stop() closes the socket and cancels a pending reconnect', () => {
    const { t, sock } = start();
    sock().open();
    sock().frame(sessionFrame);
    sock().drop(1006);
    t.stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});

describe('transport over long-polling', () => {
  it('falls back when WebSocket never connects, and follows the session to its end', async () => {
    const f = fakeFetch();
    const { frames, sock } = start({ fetch: f.fn });
    sock().drop(1006);
    await settle();
    expect(f.calls[0]!.url).toBe('https://login.example.com/v1/sessions?key=pk_test_abc');
    expect(f.calls[0]!.init.method).toBe('POST');
    f.calls[0]!.answer(201, { ...sessionFrame, type: undefined });
    await settle();
    expect(frames[0]).toMatchObject({ type: 'session', session: 'SESSION_ID_22_CHARS___' });
    expect(f.calls[1]!.url).toBe('https://login.example.com/v1/sessions/SESSION_ID_22_CHARS___/events?after=pending');
    expect(new Headers(f.calls[1]!.init.headers).get('authorization')).toBe('Bearer s3cret');
    // The long-poll window closes with nothing new: the server answers the same state again.
    f.calls[1]!.answer(200, sessionFrame);
    await settle();
    expect(f.calls[2]!.url).toContain('after=pending');
    f.calls[2]!.answer(200, { type: 'scanned' });
    await settle();
    expect(f.calls[3]!.url).toContain('after=scanned');
    f.calls[3]!.answer(200, { type: 'success', token: 'jwt', user: { id: 'usr_1' } });
    await settle();
    expect(frames.map((x) => x.type)).toEqual(['session', 'session', 'scanned', 'success']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(f.calls).toHaveLength(4);
  });

  it('reports the API error of a refused key', async () => {
    const f = fakeFetch();
    const { frames, sock } = start({ fetch: f.fn });
    sock().drop(1006);
    await settle();
    f.calls[0]!.answer(401, { error: { code: 'invalid_key', message: 'unknown key', requestId: 'r' } });
    await settle();
    expect(frames).toEqual([{ type: 'error', code: 'invalid_key', message: 'unknown key' }]);
    expect(f.calls).toHaveLength(1);
  });

  it('takes a server that answers nothing at all for an outage: back to WebSocket, then offline', async () => {
    const f = fakeFetch();
    const { frames, sock } = start({ fetch: f.fn });
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      sock().drop(1006);
      await settle();
      f.calls[i]!.fail();
      await vi.advanceTimersByTimeAsync(10_000);
    }
    expect(FakeSocket.all).toHaveLength(MAX_ATTEMPTS);
    expect(f.calls).toHaveLength(MAX_ATTEMPTS);
    expect(frames.at(-1)).toEqual({ type: 'error', code: 'offline' });
    expect(frames.filter((x) => x.type == 'reconnecting')).toHaveLength(MAX_ATTEMPTS - 1);
  });

  it('keeps polling through 503 unavailable and network errors once polling has worked', async () => {
    const f = fakeFetch();
    const { frames, sock } = start({ fetch: f.fn });
    sock().drop(1006);
    await settle();
    f.calls[0]!.answer(201, sessionFrame);
    await settle();
    f.calls[1]!.answer(503, { error: { code: 'unavailable', message: 'briefly unavailable', requestId: 'r' } });
    await vi.advanceTimersByTimeAsync(500);
    f.calls[2]!.fail();
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.calls[3]!.url).toContain('/events?after=pending');
    f.calls[3]!.answer(200, { type: 'scanned' });
    await settle();
    expect(frames.map((x) => x.type)).toEqual(['session', 'reconnecting', 'reconnecting', 'scanned']);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('says no_server, once and for good, when something other than the API answers', async () => {
    const f = fakeFetch();
    const { frames, sock } = start({ fetch: f.fn });
    sock().drop(1006);
    await settle();
    f.calls[0]!.answer(404);
    await settle();
    expect(frames).toEqual([{ type: 'error', code: 'no_server', message: 'https://login.example.com does not answer like a wechat-scan-login server' }]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(f.calls).toHaveLength(1);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('stop() aborts the poll in flight', async () => {
    const f = fakeFetch();
    const { t, frames, sock } = start({ fetch: f.fn });
    sock().drop(1006);
    await settle();
    f.calls[0]!.answer(201, sessionFrame);
    await settle();
    const inFlight = f.calls[1]!;
    t.stop();
    expect(inFlight.init.signal!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(f.calls).toHaveLength(2);
    expect(frames).toHaveLength(1);
  });
});
