import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientFrameSchema } from '../../../contract/sessions.js';
import type { Core } from '../../core';
import type { SessionBus } from './bus';
import { describeClient, normaliseIp } from './client-info';
import { initial, reduce, type Effect, type Input, type Model } from './conversation';
import { errorFrame, SESSION_ID, type ClientFrame, type Frame } from './frames';
import { CLOSE, type Admission, type Gate } from './gate';
import { randomBase64url } from '../../lib/ids';
import type { SessionService } from './service';

const MAX_PAYLOAD = 4 * 1024;
/** A slow or stalled reader past this many queued bytes is dropped rather than buffered. */
const MAX_BUFFERED = 64 * 1024;
const PING_EVERY_MS = 30_000;
const RESUME_WAIT_MS = 5_000;
/** The expiry timer fires this long after `expiresAt`, so the store agrees the code is dead. */
const EXPIRY_SLACK_MS = 20;

function parseFrame(data: Buffer, isBinary: boolean): ClientFrame | null {
  if (isBinary) return null;
  try {
    const parsed = clientFrameSchema.safeParse(JSON.parse(data.toString()));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Which client IP a request comes from, honouring Express's trust-proxy rule for forwarded headers. */
export type IpOf = (req: IncomingMessage) => string;

/**
 * The widget's WebSocket: the I/O edge of conversation.ts. Key, origin and rate limit are
 * checked on the upgrade, before any session exists; a refused socket gets one error frame and
 * a 4000-range close code. Each socket's logic is the pure reducer; this file performs its
 * effects (send, close, open, attach, listen, timers) and feeds their results back in.
 */
export function createWsGateway(deps: { core: Core; gate: Gate; service: SessionService; bus: SessionBus; ipOf: IpOf }) {
  const { core, gate, service, bus } = deps;
  const log = core.logger.child({ feature: 'sessions' });
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

  function converse(ws: WebSocket, req: IncomingMessage, admitted: Extract<Admission, { ok: true }>, resumeId: string | null) {
    const ip = normaliseIp(deps.ipOf(req));
    const client = { origin: req.headers.origin ?? '', ...describeClient(req.headers['user-agent']), ip };
    let model: Model = initial(resumeId, Date.now());
    // This socket's name when it takes a token: a retry after a lost answer gets it again.
    const claim = randomBase64url(9);
    let following: { unlisten: () => void; timer: NodeJS.Timeout } | null = null;

    function step(input: Input) {
      let effects: Effect[];
      [model, effects] = reduce(model, input);
      for (const e of effects) perform(e);
    }

    function unfollow() {
      if (!following) return;
      following.unlisten();
      clearTimeout(following.timer);
      following = null;
    }

    function perform(e: Effect) {
      switch (e.do) {
        case 'send':
          return send(ws, e.frame);
        case 'close':
          return ws.close(e.code, e.reason);
        case 'follow': {
          unfollow();
          // A socket already closing takes nothing: the browser resumes for it elsewhere.
          const unlisten = bus.listen(e.id, (event, detail) => {
            if (ws.readyState === ws.OPEN) step({ type: 'event', id: e.id, event, detail });
          });
          const timer = setTimeout(() => step({ type: 'expiry_due', id: e.id, at: Date.now() }), Math.max(0, e.expiresAt - Date.now()) + EXPIRY_SLACK_MS);
          following = { unlisten, timer };
          return;
        }
        case 'unfollow':
          return unfollow();
        case 'open':
          return void open(e.counted);
        case 'attach':
          service.attach(e.id, e.secret, claim).then(
            ({ frame, session }) => step({ type: 'attached', id: e.id, frame, expiresAt: session?.expiresAt ?? null }),
            (err: unknown) => {
              log.warn({ err, sessionId: e.id }, 'could not read the session for its browser');
              step({ type: 'attach_failed', id: e.id });
            },
          );
          return;
        case 'expire':
          service.expire(e.id).then(
            (outcome) => step({ type: 'expiry', id: e.id, outcome, at: Date.now() }),
            () => step({ type: 'expiry', id: e.id, outcome: 'error', at: Date.now() }),
          );
          return;
      }
    }

    async function open(counted: boolean) {
      try {
        const refusal = counted ? await gate.spend(ip) : null;
        if (refusal) return step({ type: 'open_refused', code: refusal.code, message: refusal.message });
        const frame = await service.open(admitted.app, admitted.mode, client);
        step({ type: 'opened', frame, expiresAt: Date.parse(frame.expiresAt) });
      } catch (err) {
        log.warn({ err }, 'could not open a session');
        step({ type: 'open_failed' });
      }
    }

    const resumeDeadline = resumeId ? setTimeout(() => step({ type: 'resume_timeout' }), RESUME_WAIT_MS) : undefined;

    ws.on('message', (data, isBinary) => {
      const msg = parseFrame(data as Buffer, isBinary);
      if (msg?.type === 'resume' && msg.session === resumeId) clearTimeout(resumeDeadline);
      step({ type: 'message', msg, at: Date.now() });
    });

    ws.on('close', () => {
      clearTimeout(resumeDeadline);
      step({ type: 'closed' });
      core.metrics.openSockets.dec();
    });

    core.metrics.openSockets.inc();
    step({ type: 'start', at: Date.now() });
  }

  return {
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/v1/ws') return false;
      socket.on('error', () => socket.destroy());
      const resumeId = url.searchParams.get('session');
      const unavailable = { ok: false, refusal: { code: 'unavailable', message: 'The login service is briefly unavailable; try again', closeCode: CLOSE.unavailable } } as const;
      gate.admit(url.searchParams.get('key'), req.headers.origin, normaliseIp(deps.ipOf(req)), req.headers.cookie)
        // A store that is down is a refusal the page should hear about, not a dropped connection.
        .catch((err: unknown): Admission => {
          log.warn({ err }, 'websocket admission failed');
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
        })
        .catch((err: unknown) => {
          log.error({ err }, 'websocket upgrade failed');
          socket.destroy();
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
