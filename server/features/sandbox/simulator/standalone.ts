import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { errorHandler, notFound, requestId } from '../../../lib/http';
import { createLogger } from '../../../lib/logger';
import { sandboxSecret, SANDBOX_APPID_PATTERN } from './credentials';
import type { Fault, SimApi, SimApp } from './engine';
import { memoryKv, type SimKv } from './kv';
import { createSimulatorRouter } from './router';

export interface StandaloneOptions {
  port?: number;
  host?: string;
  /** Where scanned codes point; default this simulator's own URL. */
  phoneBaseUrl?: string;
  /** Default: in memory. Pass redisKv(...) to share state between simulators. */
  kv?: SimKv;
  /** Also accept the derived sandbox credentials of this MASTER_KEY (like the mounted one). */
  masterKey?: Buffer;
  /** Control routes require an appid, as when mounted. */
  scoped?: boolean;
  codes?: { latencyMs?: number; perMinute?: number };
}

export interface RunningSimulator {
  url: string;
  close(): Promise<void>;
  registerApp(appid: string, secret: string, opts?: { pages?: string[] }): void;
  issueCode(appid: string, openid: string, unionid?: string): Promise<string>;
  inject(fault: Fault): Promise<void>;
  /** WeChat rejects the AppID's current token (40001) but normal-mode stable_token still hands it back. */
  rejectToken(appid: string): Promise<void>;
  clearFaults(appid?: string): Promise<void>;
  stats(appid?: string): Promise<Record<SimApi, number>>;
  /** Moves the simulated clock forward: tokens and codes expire without waiting. */
  advanceClock(ms: number): void;
}

/** The simulator on its own port, for tests and for pointing SANDBOX_WECHAT_API_BASE at. */
export async function startSimulator(opts: StandaloneOptions = {}): Promise<RunningSimulator> {
  const apps = new Map<string, SimApp>();
  let offset = 0;
  let url = '';
  const kv = opts.kv ?? memoryKv();
  const resolveApp = async (appid: string): Promise<SimApp | null> => {
    const known = apps.get(appid);
    if (known) return known;
    if (opts.masterKey && SANDBOX_APPID_PATTERN.test(appid)) return { secret: sandboxSecret(opts.masterKey, appid), pages: null };
    return null;
  };
  const routerOpts = {
    kv,
    resolveApp,
    phoneBaseUrl: () => opts.phoneBaseUrl ?? url,
    scoped: opts.scoped ?? false,
    ...(opts.codes ? { codes: opts.codes } : {}),
    now: () => Date.now() + offset,
  };
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info', 'wechat-simulator');
  const app = express();
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(createSimulatorRouter(routerOpts));
  app.use(notFound);
  app.use(errorHandler(logger));
  const http = createServer(app);
  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', ok);
  });
  url = `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${(http.address() as AddressInfo).port}`;

  // The engine behind the router is reached over HTTP so these helpers exercise the same paths tests would.
  const control = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(url + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = (await res.json()) as T & { error?: { message: string } };
    if (!res.ok) throw new Error(`simulator ${path}: ${data.error?.message ?? res.status}`);
    return data;
  };

  return {
    url,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
    registerApp(appid, secret, o = {}) {
      apps.set(appid, { secret, pages: o.pages ?? null });
    },
    async issueCode(appid, openid, unionid) {
      return (await control<{ code: string }>('POST', '/__sim/phone/login', { appid, openid, unionid })).code;
    },
    async inject(fault) {
      await control('POST', '/__sim/faults', fault);
    },
    async rejectToken(appid) {
      await control('POST', '/__sim/tokens/reject', { appid });
    },
    async clearFaults(appid) {
      await control('DELETE', `/__sim/faults${appid ? `?appid=${encodeURIComponent(appid)}` : ''}`);
    },
    async stats(appid) {
      return (await control<{ calls: Record<SimApi, number> }>('GET', `/__sim/stats${appid ? `?appid=${encodeURIComponent(appid)}` : ''}`)).calls;
    },
    advanceClock(ms) {
      offset += ms;
    },
  };
}

async function runFromCommandLine(): Promise<void> {
  const port = Number(process.env.SIM_PORT ?? process.env.PORT ?? 4000);
  const masterKey = process.env.MASTER_KEY ? Buffer.from(process.env.MASTER_KEY, 'base64') : undefined;
  const codes = { latencyMs: Number(process.env.SIM_CODE_LATENCY_MS ?? 0), perMinute: Number(process.env.SIM_CODES_PER_MINUTE ?? 0) };
  const sim = await startSimulator({ port, host: process.env.SIM_HOST ?? '0.0.0.0', phoneBaseUrl: process.env.PUBLIC_URL, masterKey, codes });
  const appid = process.env.SIM_APPID ?? 'wx0000000000000001';
  const secret = process.env.SIM_SECRET ?? 'sandbox-secret-0000000000000001';
  sim.registerApp(appid, secret);
  console.log(`WeChat simulator on ${sim.url} (AppID ${appid}${masterKey ? ', plus derived sandbox AppIDs' : ''})`);
  const stop = () => void sim.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runFromCommandLine();
}
