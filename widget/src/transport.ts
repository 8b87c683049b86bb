import { backoff, MAX_ATTEMPTS } from './backoff';
import type { Input } from './machine';
import { parseFrame, type ErrorFrame, type ServerFrame } from './protocol';

export interface TransportOptions {
  /** The service's base URL, e.g. https://login.example.com (a path prefix is kept). */
  server: string;
  siteKey: string;
  /**
   * Every frame, in order, and `reconnecting` each time a retry is scheduled after a transient
   * failure; after a terminal frame the transport has already stopped.
   */
  onFrame(frame: ServerFrame | Extract<Input, { type: 'reconnecting' }>): void;
  random?: () => number;
  /** Injected by unit tests; the browser's own by default. */
  WebSocket?: typeof WebSocket;
  fetch?: typeof fetch;
}

export interface Transport {
  /** Closes the socket, aborts the poll, clears every timer. Idempotent. */
  stop(): void;
}

/** Close codes of refused sockets, for when the error frame before them was lost. */
const REFUSED: Record<number, string> = { 4001: 'invalid_key', 4003: 'origin_not_allowed', 4029: 'rate_limited' };
/** The server's "briefly unavailable" (a Redis or Postgres outage): retried, never shown as an error. */
const UNAVAILABLE = 4503;
const PING_MS = 20_000;

/**
 * The session controller: one login session over WebSocket, resumed with its secret after a
 * drop, or over the long-polling API where WebSocket can't connect. Outages (close 4503
 * `unavailable`, network errors, dropped sockets, 5xx answers) are retried with backoff and
 * jitter; refusals (`invalid_key`, `origin_not_allowed`, …) and terminal frames stop it.
 */
export function connect(o: TransportOptions): Transport {
  const base = o.server.replace(/\/+$/, '');
  const random = o.random ?? Math.random;
  let stopped = false;
  let ws: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pinger: ReturnType<typeof setInterval> | undefined;
  let abort: AbortController | undefined;
  let sess: { id: string; secret: string } | undefined;
  let after = 'pending';
  let opened = false;
  /** The polling API has answered at least once: WebSocket is blocked here, keep polling. */
  let polled = false;
  let fails = 0;

  const deliver = (f: ServerFrame) => {
    if (stopped) return;
    fails = 0;
    if (f.type == 'session') (sess = { id: f.session, secret: f.secret }), (after = 'pending');
    if (f.type == 'scanned') after = 'scanned';
    if (f.type != 'session' && f.type != 'scanned') stop();
    o.onFrame(f);
  };
  const fail = (code: string, message?: string) => deliver({ type: 'error', code, ...(message && { message }) } as ErrorFrame);

  const retry = (next: () => void) => {
    if (++fails >= MAX_ATTEMPTS) return fail('offline');
    timer = setTimeout(next, backoff(fails, random));
    o.onFrame({ type: 'reconnecting' });
  };

  const closeWs = () => {
    clearInterval(pinger);
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.close(1000);
    ws = undefined;
  };

  const openWs = () => {
    const url = `${base.replace(/^http/, 'ws')}/v1/ws?key=${encodeURIComponent(o.siteKey)}${sess ? `&session=${sess.id}` : ''}`;
    const s = (ws = new (o.WebSocket ?? WebSocket)(url));
    const resuming = sess;
    let refused = false;
    // Pings let us notice a silently dead connection; the check only arms once the server has
    // answered one, so a server without pongs is never dropped for being quiet.
    let unanswered = 0;
    let answered = false;
    s.onopen = () => {
      opened = true;
      if (resuming) s.send(JSON.stringify({ type: 'resume', session: resuming.id, secret: resuming.secret }));
      pinger = setInterval(() => {
        if (answered && unanswered >= 2) return closeWs(), retry(openWs);
        unanswered++;
        s.send('{"type":"ping"}');
      }, PING_MS);
    };
    s.onmessage = (e) => {
      if (unanswered) answered = true;
      unanswered = 0;
      const f = parseFrame(e.data);
      // A store outage on the server's side (whether or not it closes the socket): try again
      // later on a fresh socket; the visitor only sees "reconnecting".
      if (f?.type == 'error' && f.code == 'unavailable') return closeWs(), retry(openWs);
      if (f?.type == 'error') refused = true;
      if (f) deliver(f);
    };
    s.onclose = (e) => {
      if (ws != s) return;
      clearInterval(pinger);
      ws = undefined;
      if (e.code >= 4000 && e.code < 5000 && e.code != UNAVAILABLE) {
        if (!refused) fail(REFUSED[e.code] ?? 'error');
        stop();
      } else if (!opened) {
        // Never connected at all: a proxy or firewall that blocks WebSocket, or the server is down.
        // Long-polling tells the two apart.
        void poll();
      } else retry(openWs);
    };
  };

  const poll = async (): Promise<void> => {
    abort = new AbortController();
    try {
      const res = await (o.fetch ?? fetch)(
        sess ? `${base}/v1/sessions/${sess.id}/events?after=${after}` : `${base}/v1/sessions?key=${encodeURIComponent(o.siteKey)}`,
        sess ? { headers: { authorization: `Bearer ${sess.secret}` }, signal: abort.signal } : { method: 'POST', signal: abort.signal },
      );
      if (stopped) return;
      polled = true;
      // 204: the long-poll ran out with nothing new; ask again straight away.
      if (res.status == 204) return void poll();
      const body = await res.json().catch(() => null);
      if (stopped) return;
      const f = res.ok ? parseFrame(sess ? body : { type: 'session', ...body }) : null;
      if (f) {
        deliver(f);
        if (!stopped) void poll();
        return;
      }
      const err = body?.error;
      if (res.status < 500 && err?.code && err.code != 'unavailable') return void fail(String(err.code), err.message);
      // Something that isn't this API answered (a bundler's dev server, a static host): retrying
      // can't help, the page must point the element at its server.
      if (!err && (res.ok || res.status == 404 || res.status == 405)) return void fail('no_server', `${base} does not answer like a wechat-scan-login server`);
      throw res.status;
    } catch {
      // Nothing answered at all: an outage rather than a blocked WebSocket, so try that again first.
      if (!stopped) retry(polled ? poll : openWs);
    }
  };

  function stop() {
    stopped = true;
    clearTimeout(timer);
    abort?.abort();
    closeWs();
  }

  openWs();
  return { stop };
}
