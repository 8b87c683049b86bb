/**
 * A deliberately minimal login server for bench/floor.ts: the same wire protocol as the real
 * one (WebSocket /v1/ws, POST /sandbox/phone/code, /v1/mp/scan, /v1/mp/confirm, the same frame
 * and answer shapes), with nothing else, so the bench can measure what this machine allows at
 * all. Not a product: no rate limits, no logging, no metrics beyond two counters.
 *
 *   node --import tsx bench/floor-server.ts --level bare|stores --port P --key pk_… --origin O
 *        [--instance ID] [--redis-url U --redis-prefix X --database-url D --confirm-sql cte|tx]
 *
 * Prints `ready` on stdout once it listens (and, for `stores`, once Redis and Postgres answer).
 *
 * `stores` keeps every session in Redis, so that any instance can take any phone request; the
 * browser's socket stays on the instance that opened it (its "holder"), and an event caused
 * elsewhere reaches the holder on the channel `<prefix>:ev:<holder>`, published from inside the
 * same Lua script as the transition, so crossing instances costs no extra round trip.
 * Per login that is six Redis round trips (create, code issue, code exchange, scan, confirm,
 * token hand-over) and one Postgres round trip.
 */
import { createHash, generateKeyPairSync, randomBytes, randomInt, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { WebSocketServer, type WebSocket } from 'ws';

const { values: args } = parseArgs({
  options: {
    level: { type: 'string', default: 'bare' },
    port: { type: 'string' },
    key: { type: 'string' },
    origin: { type: 'string' },
    instance: { type: 'string', default: 'i1' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'redis-prefix': { type: 'string' },
    'database-url': { type: 'string' },
    'confirm-sql': { type: 'string', default: 'cte' },
    'pg-max': { type: 'string', default: '10' },
  },
});

const level = args.level;
if (level !== 'bare' && level !== 'stores') throw new Error(`--level must be bare or stores, not ${level}`);
const PORT = Number(args.port);
const KEY = args.key ?? '';
const ORIGIN = args.origin ?? '';
const INSTANCE = args.instance;
if (!PORT || !KEY || !ORIGIN) throw new Error('--port, --key and --origin are required');

const APP_ID = 'app_floor';
const SITE = { name: 'Bench Shop', origin: ORIGIN };
const SESSION_TTL_MS = 5 * 60_000;
const CODE_TTL_MS = 5 * 60_000;
/** After the token is handed over the hash only has to outlive a browser that reconnects. */
const DONE_TTL_MS = 120_000;
/** The bare level signs nothing; a token-shaped constant keeps the frame the same size. */
const DUMMY_JWT = `eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.${Buffer.from(JSON.stringify({ sub: '1', openid: 'o_bench_user_000000', iat: 0, exp: 0, jti: 'x'.repeat(22) })).toString('base64url')}.${'s'.repeat(86)}`;

const counters = { redisRoundTrips: 0, pgRoundTrips: 0, logins: 0 };

const newId = () => randomBytes(16).toString('base64url'); // 22 characters, like the product's session ids
const newMatch = () => String(randomInt(100)).padStart(2, '0');
const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** The phone's scan answer shows the browser and OS; one user agent per bench, so a tiny cache is the whole parser. */
const uaCache = new Map<string, { browser: string; os: string }>();
function describeUa(ua: string): { browser: string; os: string } {
  let d = uaCache.get(ua);
  if (!d) {
    d = { browser: /Chrome\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox' : 'Browser', os: /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : 'Other' };
    if (uaCache.size < 100) uaCache.set(ua, d);
  }
  return d;
}

class HttpProblem extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(code);
  }
}

// ---------------------------------------------------------------------------------------------
// Token signing: a real ES256 JWT per login at the `stores` level.

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'floor' })).toString('base64url');
function signJwt(key: KeyObject, claims: Record<string, unknown>): string {
  const body = `${JWT_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  // JWS wants the raw r||s signature, not DER.
  return `${body}.${sign('sha256', Buffer.from(body), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// The two session stores behind one interface: the HTTP and WebSocket code is the same for both.

interface ClientInfo {
  origin: string;
  browser: string;
  os: string;
  ip: string;
}
interface ScanResult {
  ticket: string;
  match: string;
  expiresAt: number;
  client: ClientInfo;
  createdAt: number;
}
type User = { id: string; openid: string };

interface Store {
  /** Creates the session; returns its id, secret, match and expiry. */
  open(client: ClientInfo): Promise<{ id: string; secret: string; match: string; expiresAt: number }>;
  issueCode(scene: string, openid: string): Promise<string>;
  scan(scene: string, code: string): Promise<ScanResult>;
  confirm(scene: string, ticket: string): Promise<void>;
  close(): Promise<void>;
}

/** Sockets are always local: the instance that accepted a browser is the only one that can write to it. */
const sockets = new Map<string, WebSocket>();
function deliver(sessionId: string, frame: string) {
  const ws = sockets.get(sessionId);
  if (ws && ws.readyState === ws.OPEN) ws.send(frame);
}
const SCANNED_FRAME = JSON.stringify({ type: 'scanned' });
const successFrame = (token: string, user: User) => `{"type":"success","token":${JSON.stringify(token)},"user":${JSON.stringify(user)}}`;

function memoryStore(): Store {
  type S = { secret: string; match: string; expiresAt: number; createdAt: number; client: ClientInfo; state: 'waiting' | 'scanned' | 'done'; ticket?: string; openid?: string };
  const sessions = new Map<string, S>();
  const codes = new Map<string, { openid: string; expiresAt: number }>();
  let userSeq = 0;
  const userIds = new Map<string, string>();
  // Abandoned logins (a bench error, a closed tab) must not grow the maps forever.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, s] of sessions) if (s.expiresAt < now) sessions.delete(k);
    for (const [k, c] of codes) if (c.expiresAt < now) codes.delete(k);
  }, 10_000);
  sweep.unref();
  return {
    async open(client) {
      const id = newId();
      const now = Date.now();
      const s: S = { secret: newId(), match: newMatch(), expiresAt: now + SESSION_TTL_MS, createdAt: now, client, state: 'waiting' };
      sessions.set(id, s);
      return { id, secret: s.secret, match: s.match, expiresAt: s.expiresAt };
    },
    async issueCode(scene, openid) {
      if (!sessions.has(scene)) throw new HttpProblem(404, 'session_not_found');
      const code = newId();
      codes.set(code, { openid, expiresAt: Date.now() + CODE_TTL_MS });
      return code;
    },
    async scan(scene, code) {
      const c = codes.get(code);
      if (!c) throw new HttpProblem(400, 'invalid_code');
      codes.delete(code);
      const s = sessions.get(scene);
      if (!s || s.state !== 'waiting') throw new HttpProblem(404, 'session_not_found');
      s.state = 'scanned';
      s.openid = c.openid;
      s.ticket = newId();
      deliver(scene, SCANNED_FRAME);
      return { ticket: s.ticket, match: s.match, expiresAt: s.expiresAt, client: s.client, createdAt: s.createdAt };
    },
    async confirm(scene, ticket) {
      const s = sessions.get(scene);
      if (!s || s.state !== 'scanned' || s.ticket !== ticket) throw new HttpProblem(409, 'invalid_state');
      s.state = 'done';
      let uid = userIds.get(s.openid!);
      if (!uid) userIds.set(s.openid!, (uid = String(++userSeq)));
      deliver(scene, successFrame(DUMMY_JWT, { id: uid, openid: s.openid! }));
      sessions.delete(scene);
    },
    async close() {
      clearInterval(sweep);
    },
  };
}

/** Lua, so that each transition is one round trip and a publish to another instance rides along. */
const SCAN_LUA = `
local s = redis.call('HMGET', KEYS[1], 'state', 'match', 'expiresAt', 'createdAt', 'origin', 'browser', 'os', 'ip', 'holder')
if not s[1] then return {'unknown'} end
if s[1] ~= 'waiting' then return {'finished'} end
redis.call('HSET', KEYS[1], 'state', 'scanned', 'ticket', ARGV[1], 'openid', ARGV[2])
if s[9] ~= ARGV[3] then redis.call('PUBLISH', ARGV[4] .. s[9], 's' .. ARGV[5]) end
return {'ok', s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]}
`;
const CONFIRM_LUA = `
local s = redis.call('HMGET', KEYS[1], 'state', 'ticket', 'openid')
if not s[1] then return {'unknown'} end
if s[1] ~= 'scanned' or s[2] ~= ARGV[1] then return {'finished'} end
redis.call('HSET', KEYS[1], 'state', 'confirming')
return {'ok', s[3]}
`;
/** Stores the token for a browser that reconnects and hands it to the holder (here, or over pub/sub). */
const HANDOVER_LUA = `
local s = redis.call('HMGET', KEYS[1], 'state', 'holder')
if s[1] ~= 'confirming' then return '' end
redis.call('HSET', KEYS[1], 'state', 'done', 'token', ARGV[1], 'user', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if s[2] ~= ARGV[3] then redis.call('PUBLISH', ARGV[4] .. s[2], 'c' .. ARGV[5] .. ' ' .. ARGV[1] .. ' ' .. ARGV[2]) end
return s[2]
`;

type FloorRedis = Redis & {
  floorScan(key: string, ticket: string, openid: string, me: string, channelPrefix: string, sessionId: string): Promise<string[]>;
  floorConfirm(key: string, ticket: string): Promise<string[]>;
  floorHandover(key: string, token: string, user: string, me: string, channelPrefix: string, sessionId: string, ttlMs: number): Promise<string>;
};

async function redisStore(): Promise<Store> {
  const prefix = args['redis-prefix'];
  const databaseUrl = args['database-url'];
  if (!prefix || !databaseUrl) throw new Error('--redis-prefix and --database-url are required for --level stores');
  const confirmSql = args['confirm-sql'];
  if (confirmSql !== 'cte' && confirmSql !== 'tx') throw new Error('--confirm-sql must be cte or tx');
  const redis = new Redis(args['redis-url'], { lazyConnect: false }) as FloorRedis;
  redis.defineCommand('floorScan', { numberOfKeys: 1, lua: SCAN_LUA });
  redis.defineCommand('floorConfirm', { numberOfKeys: 1, lua: CONFIRM_LUA });
  redis.defineCommand('floorHandover', { numberOfKeys: 1, lua: HANDOVER_LUA });
  const channelPrefix = `${prefix}:ev:`;
  const sessionKey = (id: string) => `${prefix}:s:${id}`;
  const codeKey = (code: string) => `${prefix}:c:${code}`;

  // Events for sockets held here, caused on another instance: 's<id>' = scanned, 'c<id> <token> <user>' = success.
  const sub = new Redis(args['redis-url'], { lazyConnect: false });
  await sub.subscribe(channelPrefix + INSTANCE);
  sub.on('message', (_channel: string, msg: string) => {
    if (msg[0] === 's') return deliver(msg.slice(1), SCANNED_FRAME);
    const a = msg.indexOf(' ');
    const b = msg.indexOf(' ', a + 1);
    deliver(msg.slice(1, a), successFrame(msg.slice(a + 1, b), JSON.parse(msg.slice(b + 1)) as User));
  });

  const sql = postgres(databaseUrl, { max: Number(args['pg-max']), onnotice: () => {} });
  await sql`select 1`;
  await redis.ping();

  /** Upsert the end user (+1 login), insert the login event and the webhook outbox message. */
  async function recordLogin(openid: string, sessionId: string): Promise<{ id: string; loginCount: number }> {
    if (confirmSql === 'cte') {
      // One statement, one round trip, one implicit transaction: unreferenced data-modifying CTEs still run.
      counters.pgRoundTrips++;
      const [row] = await sql<Array<{ id: string; login_count: number }>>`
        with u as (
          insert into users (app_id, openid, login_count) values (${APP_ID}, ${openid}, 1)
          on conflict (app_id, openid) do update set login_count = users.login_count + 1, last_login_at = now()
          returning id, login_count
        ), e as (
          insert into login_events (app_id, user_id, session_id) select ${APP_ID}, u.id, ${sessionId} from u returning id
        ), o as (
          insert into outbox (app_id, type, payload)
          select ${APP_ID}, 'login.succeeded', jsonb_build_object('user_id', u.id, 'openid', ${openid}::text, 'event_id', e.id, 'session', ${sessionId}::text)
          from u, e
        )
        select id::text, login_count from u`;
      return { id: row!.id, loginCount: row!.login_count };
    }
    // BEGIN + three statements + COMMIT: five round trips.
    counters.pgRoundTrips += 5;
    return sql.begin(async (tx) => {
      const [u] = await tx<Array<{ id: string; login_count: number }>>`
        insert into users (app_id, openid, login_count) values (${APP_ID}, ${openid}, 1)
        on conflict (app_id, openid) do update set login_count = users.login_count + 1, last_login_at = now()
        returning id::text, login_count`;
      const [e] = await tx<Array<{ id: string }>>`insert into login_events (app_id, user_id, session_id) values (${APP_ID}, ${u!.id}, ${sessionId}) returning id::text`;
      await tx`insert into outbox (app_id, type, payload) values (${APP_ID}, 'login.succeeded', ${sql.json({ user_id: u!.id, openid, event_id: e!.id, session: sessionId })})`;
      return { id: u!.id, loginCount: u!.login_count };
    });
  }

  return {
    async open(client) {
      const id = newId();
      const secret = newId();
      const match = newMatch();
      const now = Date.now();
      const expiresAt = now + SESSION_TTL_MS;
      counters.redisRoundTrips++;
      await redis
        .multi()
        .hset(sessionKey(id), 'app', APP_ID, 'state', 'waiting', 'secretHash', sha256(secret), 'match', match, 'createdAt', String(now), 'expiresAt', String(expiresAt), 'origin', client.origin, 'browser', client.browser, 'os', client.os, 'ip', client.ip, 'holder', INSTANCE)
        .pexpire(sessionKey(id), SESSION_TTL_MS)
        .exec();
      return { id, secret, match, expiresAt };
    },
    async issueCode(_scene, openid) {
      // The WeChat simulator's side: it only knows codes, not sessions.
      const code = newId();
      counters.redisRoundTrips++;
      await redis.set(codeKey(code), openid, 'PX', CODE_TTL_MS);
      return code;
    },
    async scan(scene, code) {
      // jscode2session: a code is good once.
      counters.redisRoundTrips++;
      const openid = await redis.getdel(codeKey(code));
      if (!openid) throw new HttpProblem(400, 'invalid_code');
      const ticket = newId();
      counters.redisRoundTrips++;
      const r = await redis.floorScan(sessionKey(scene), ticket, openid, INSTANCE, channelPrefix, scene);
      if (r[0] !== 'ok') throw new HttpProblem(404, 'session_not_found');
      if (r[8] === INSTANCE) deliver(scene, SCANNED_FRAME);
      return { ticket, match: r[1]!, expiresAt: Number(r[2]), createdAt: Number(r[3]), client: { origin: r[4]!, browser: r[5]!, os: r[6]!, ip: r[7]! } };
    },
    async confirm(scene, ticket) {
      counters.redisRoundTrips++;
      const r = await redis.floorConfirm(sessionKey(scene), ticket);
      if (r[0] !== 'ok') throw new HttpProblem(409, 'invalid_state');
      const openid = r[1]!;
      const u = await recordLogin(openid, scene);
      const iat = Math.floor(Date.now() / 1000);
      const token = signJwt(privateKey, { iss: `http://127.0.0.1:${PORT}`, aud: APP_ID, sub: u.id, openid, iat, exp: iat + 3600, jti: scene });
      const user: User = { id: u.id, openid };
      counters.redisRoundTrips++;
      const holder = await redis.floorHandover(sessionKey(scene), token, JSON.stringify(user), INSTANCE, channelPrefix, scene, DONE_TTL_MS);
      if (holder === INSTANCE) deliver(scene, successFrame(token, user));
    },
    async close() {
      sub.disconnect();
      await redis.quit();
      await sql.end({ timeout: 5 });
    },
  };
}

const store = level === 'bare' ? memoryStore() : await redisStore();

// ---------------------------------------------------------------------------------------------
// HTTP: three JSON routes and a counter read-out.

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString());
        if (typeof v !== 'object' || v === null) throw new Error('not an object');
        ok(v as Record<string, unknown>);
      } catch {
        fail(new HttpProblem(400, 'invalid_json'));
      }
    });
    req.on('error', fail);
  });
}

const str = (v: unknown, name: string) => {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new HttpProblem(400, `invalid_${name}`);
  return v;
};

async function route(req: IncomingMessage, res: ServerResponse) {
  if (req.method === 'GET' && req.url === '/floor/stats') return send(res, 200, counters);
  if (req.method !== 'POST') throw new HttpProblem(404, 'not_found');
  const body = await readJson(req);
  switch (req.url) {
    case '/sandbox/phone/code':
      return send(res, 200, { code: await store.issueCode(str(body.scene, 'scene'), str(body.openid, 'openid')) });
    case '/v1/mp/scan': {
      const r = await store.scan(str(body.scene, 'scene'), str(body.code, 'code'));
      return send(res, 200, {
        ticket: r.ticket,
        site: SITE,
        request: { browser: r.client.browser, os: r.client.os, ip: r.client.ip, createdAt: new Date(r.createdAt).toISOString() },
        match: r.match,
        expiresAt: new Date(r.expiresAt).toISOString(),
      });
    }
    case '/v1/mp/confirm':
      await store.confirm(str(body.scene, 'scene'), str(body.ticket, 'ticket'));
      counters.logins++;
      return send(res, 200, { ok: true });
    default:
      throw new HttpProblem(404, 'not_found');
  }
}

const server = createServer((req, res) => {
  route(req, res).catch((err: unknown) => {
    if (res.headersSent) return res.destroy();
    if (err instanceof HttpProblem) send(res, err.status, { error: { code: err.code } });
    else send(res, 500, { error: { code: 'internal', message: String(err).slice(0, 200) } });
  });
});

// ---------------------------------------------------------------------------------------------
// WebSocket: the widget's socket; the session is created the moment it opens.

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096 });
const EXPECTED_PATH = '/v1/ws';

server.on('upgrade', (req, socket, head) => {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const key = q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('key');
  if (path !== EXPECTED_PATH || key !== KEY || req.headers.origin !== ORIGIN) {
    socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const ua = describeUa(req.headers['user-agent'] ?? '');
    const client: ClientInfo = { origin: ORIGIN, browser: ua.browser, os: ua.os, ip: req.socket.remoteAddress ?? '' };
    let sessionId: string | undefined;
    ws.on('error', () => {});
    ws.on('close', () => {
      if (sessionId && sockets.get(sessionId) === ws) sockets.delete(sessionId);
    });
    store.open(client).then(
      (s) => {
        if (ws.readyState !== ws.OPEN) return;
        sessionId = s.id;
        sockets.set(s.id, ws);
        ws.send(JSON.stringify({ type: 'session', session: s.id, secret: s.secret, expiresAt: new Date(s.expiresAt).toISOString(), qr: `http://127.0.0.1:${PORT}/qr/${s.id}.png`, match: s.match }));
      },
      () => ws.close(1011, 'store'),
    );
  });
});

server.keepAliveTimeout = 65_000;
server.listen(PORT, '127.0.0.1', () => process.stdout.write('ready\n'));

async function shutdown() {
  for (const ws of wss.clients) ws.terminate();
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
  await store.close();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
