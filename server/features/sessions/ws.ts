import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientFrameSchema, type ClientFrame } from '../../../contract/sessions.js';
import type { Core } from '../../core';
import type { SessionBus, SessionEvent } from './bus';
import { describeClient, normaliseIp } from './client-info';
import { CLOSE, type Gate } from './gate';
import { errorFrame, SESSION_ID, type Frame, type SessionService } from './service';

const MAX_PAYLOAD = 4 * 1024;
/** A slow or stalled reader past this many queued bytes is dropped rather than buffered. */
const MAX_BUFFERED = 64 * 1024;
const PING_EVERY_MS = 30_000;
const RESUME_WAIT_MS = 5_000;
/** Per-socket message budget: a widget sends a handful of frames per session. */
const MESSAGES_PER_10S = 30;

/** Which client IP a request comes from, honouring Express's trust-proxy rule for forwarded headers. */
export type IpOf = (req: IncomingMessage) => string;

/**
 * The widget's WebSocket. Key, origin and rate limit are checked on the upgrade, before any
 * session exists; a refused socket gets one error frame and a 4000-range close code.
 */
export function createWsGateway(deps: { core: Core; gate: Gate; service: SessionService; bus: SessionBus; ipOf: IpOf }) {
  const { core, gate, service, bus } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false, clientTracking: true });
  const alive = new WeakSet<WebSocket>();

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, PING_EVERY_MS);
  heartbeat.unref();

  function send(ws: WebSocket, frame: Frame | { type: 'pong' }) {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(frame));
  }

  function refuse(ws: WebSocket, code: string, message: string, closeCode: number) {
    send(ws, errorFrame(code, message));
    ws.close(closeCode, code);
  }

  /** One socket's conversation: at most one session at a time, its listener and its expiry timer. */
  function converse(ws: WebSocket, req: IncomingMessage, admitted: Extract<Awaited<ReturnType<Gate>>, { ok: true }>, resumeId: string | null) {
    let current: { id: string; secret: string; unlisten: () => void; timer: NodeJS.Timeout | undefined } | null = null;
    let finished = false;
    // A fixed window counted from timestamps: no timer per socket (10,000 idle sockets would
    // mean 10,000 wake-ups every 10 s for nothing).
    let budget = MESSAGES_PER_10S;
    let windowStart = Date.now();
    const spend = () => {
      const now = Date.now();
      if (now - windowStart >= 10_000) {
        windowStart = now;
        budget = MESSAGES_PER_10S;
      }
      return --budget >= 0;
    };
    const client = { origin: req.headers.origin ?? '', ...describeClient(req.headers['user-agent']), ip: normaliseIp(deps.ipOf(req)) };

    function detach() {
      if (!current) return;
      current.unlisten();
      clearTimeout(current.timer);
      current = null;
    }

    function follow(id: string, secret: string, expiresAt: number) {
      detach();
      const unlisten = bus.listen(id, (event, detail) => void onEvent(id, event, detail));
      const timer = setTimeout(() => void onExpiry(id), Math.max(0, expiresAt - Date.now()) + 20);
      current = { id, secret, unlisten, timer };
    }

    function deliver(frame: Frame) {
      send(ws, frame);
      if (frame.type === 'success') {
        finished = true;
        detach();
        ws.close(1000, 'done');
      } else if (frame.type !== 'session' && frame.type !== 'scanned') {
        // cancelled, expired, error: the socket stays for a `refresh`, but this session is over.
        detach();
      }
    }

    async function onEvent(id: string, event: SessionEvent, detail: string) {
      if (current?.id !== id) return;
      if (event === 'scanned') return send(ws, { type: 'scanned' });
      if (event === 'failed') return deliver(errorFrame('wechat_error', detail));
      if (event === 'refused') {
        const space = detail.indexOf(' ');
        return deliver(errorFrame(detail.slice(0, space), detail.slice(space + 1)));
      }
      // A socket already closing must not take the token: the browser will resume for it.
      if (ws.readyState !== ws.OPEN) return;
      // Confirmed, cancelled, expired: the attach script decides what this holder gets, once.
      const { frame } = await service.attach(id, current.secret);
      if (current?.id === id) deliver(frame);
    }

    async function onExpiry(id: string) {
      if (current?.id !== id) return;
      if (await service.expire(id).catch(() => false)) {
        if (current?.id === id) deliver({ type: 'expired' });
      }
    }

    async function openNew() {
      const frame = await service.open(admitted.app, admitted.mode, client);
      follow(frame.session, frame.secret, Date.parse(frame.expiresAt));
      send(ws, frame);
    }

    async function resume(id: string, secret: string) {
      const { frame, session } = await service.attach(id, secret);
      if (frame.type === 'error') {
        send(ws, frame);
        ws.close(CLOSE.session_not_found, 'session_not_found');
        return;
      }
      if (session && (frame.type === 'session' || frame.type === 'scanned')) follow(id, secret, session.expiresAt);
      deliver(frame);
    }

    const resumeDeadline = resumeId
      ? setTimeout(() => refuse(ws, 'bad_request', 'Expected a resume frame with the session secret', CLOSE.bad_request), RESUME_WAIT_MS)
      : undefined;
    let awaitingResume = Boolean(resumeId);

    ws.on('message', (data, isBinary) => {
      if (!spend()) return refuse(ws, 'rate_limited', 'Too many messages on this connection', CLOSE.rate_limited);
      let msg: ClientFrame;
      try {
        const parsed = clientFrameSchema.safeParse(isBinary ? undefined : JSON.parse(data.toString()));
        if (!parsed.success) throw new Error();
        msg = parsed.data;
      } catch {
        return send(ws, errorFrame('bad_request', 'Unknown or malformed frame'));
      }
      const run = async () => {
        if (msg.type === 'ping') return send(ws, { type: 'pong' });
        if (awaitingResume) {
          if (msg.type !== 'resume' || msg.session !== resumeId) return send(ws, errorFrame('bad_request', 'Expected a resume frame for the session in the URL'));
          awaitingResume = false;
          clearTimeout(resumeDeadline);
          return resume(msg.session, msg.secret);
        }
        if (msg.type === 'resume') return send(ws, errorFrame('bad_request', 'Resume only as the first frame of a socket opened with ?session='));
        if (finished) return send(ws, errorFrame('bad_request', 'This login is complete'));
        return openNew();
      };
      run().catch((err) => {
        core.logger.warn({ err }, 'websocket frame failed');
        send(ws, errorFrame('unavailable', 'The login service is briefly unavailable; try again'));
      });
    });

    ws.on('close', () => {
      clearTimeout(resumeDeadline);
      detach();
      core.metrics.openSockets.dec();
    });

    core.metrics.openSockets.inc();
    if (!resumeId) {
      openNew().catch((err) => {
        core.logger.warn({ err }, 'could not open a session');
        refuse(ws, 'unavailable', 'The login service is briefly unavailable; try again', CLOSE.unavailable);
      });
    }
  }

  return {
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/v1/ws') return false;
      socket.on('error', () => socket.destroy());
      const resumeId = url.searchParams.get('session');
      const unavailable = { ok: false, refusal: { code: 'unavailable', message: 'The login service is briefly unavailable; try again', closeCode: CLOSE.unavailable } } as const;
      void gate(url.searchParams.get('key'), req.headers.origin, normaliseIp(deps.ipOf(req)))
        // A store that is down is a refusal the page should hear about, not a dropped connection.
        .catch((err: unknown) => {
          core.logger.warn({ err }, 'websocket admission failed');
          return unavailable;
        })
        .then((admission) => {
          wss.handleUpgrade(req, socket, head, (ws) => {
            alive.add(ws);
            ws.on('pong', () => alive.add(ws));
            ws.on('error', () => ws.terminate());
            if (!admission.ok) return refuse(ws, admission.refusal.code, admission.refusal.message, admission.refusal.closeCode);
            if (resumeId !== null && !SESSION_ID.test(resumeId)) return refuse(ws, 'session_not_found', 'This login session is unknown or finished', CLOSE.session_not_found);
            converse(ws, req, admission, resumeId);
          });
        });
      return true;
    },
    async close() {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await new Promise<void>((ok) => wss.close(() => ok()));
    },
  };
}
