import type { IncomingMessage } from 'node:http';
import { Router } from 'express';
import proxyAddr from 'proxy-addr';
import type { Core, Feature } from '../../core';
import { createPeriodic } from '../../lib/periodic';
import type { AppsStore } from '../apps/store';
import { createSessionBus } from './bus';
import { createGate } from './gate';
import { mpRoutes } from './mp-routes';
import { pollingRoutes } from './polling-routes';
import type { ActivityPort, HostedPagePort, LinkCodePort, OutboxPort, PhonePort, SignerPort, WechatPort } from './ports';
import { qrRoutes } from './qr-routes';
import { createResync } from './resync';
import { createSessionService, type SessionService } from './service';
import { createSessionStore } from './store';
import { testHelperRoutes } from './test-helper-routes';
import { createWsGateway } from './ws';

/**
 * The login core: session state in Redis, and one module per audience: the widget's socket
 * (ws.ts over conversation.ts), its polling fallback, the code image, the mini-program API and
 * the sandbox's test helpers. Events are routed to whichever instance holds the browser, and
 * two background passes keep every login finishing: resync (lost events) and confirm recovery
 * (a confirm whose instance died mid-way).
 */
export type { SessionService } from './service';
export { SESSION_ID } from './frames';

/**
 * On a cluster, how long a confirm waits for a replica to hold the login (WAIT 1): a replica on
 * the same network acks in about a millisecond; past this the login goes on unreplicated (its
 * Postgres record still recovers it) rather than keep the phone waiting.
 */
const REPLICA_ACK_MS = 100;

export function createSessionsFeature(core: Core, deps: { apps: AppsStore; wechat: WechatPort; signer: SignerPort; outbox: OutboxPort; activity: ActivityPort; linkCodes: LinkCodePort; hostedPages?: HostedPagePort; phone?: PhonePort }): {
  feature: Feature;
  service: SessionService;
} {
  const log = core.logger.child({ feature: 'sessions' });
  const store = createSessionStore(core.redis.client, (id) => core.key('sess', `{${id}}`), core.key('confirming'), core.redis.cluster ? REPLICA_ACK_MS : undefined);
  const bus = createSessionBus({
    instanceId: core.instanceId,
    channelOf: (instance) => core.key('inst', instance),
    publisher: core.redis.client,
    subscriber: core.redis.duplicate({ maxRetriesPerRequest: null }),
    sharded: core.redis.cluster,
    logger: core.logger,
  });
  const service = createSessionService({ core, store, bus, ...deps });
  const gate = createGate(core, deps.apps, deps.hostedPages);
  // The socket sees the raw request, so apply the same trust-proxy rule Express uses for req.ip.
  const trust = proxyAddr.compile(core.config.trustProxy.split(',').map((s) => s.trim()));
  const ipOf = (req: IncomingMessage) => proxyAddr(req, trust);
  const ws = createWsGateway({ core, gate, service, bus, ipOf });
  const resync = createResync({ bus, store, intervalMs: core.config.sessionResyncMs, logger: log });
  const recovery = createPeriodic(
    async () => void (await service.recoverConfirms()),
    Math.max(100, Math.floor(core.config.confirmLeaseMs / 2)),
    (err) => log.warn({ err }, 'confirm recovery pass failed; the next one retries'),
  );

  const router = Router();
  router.use(pollingRoutes({ core, gate, service, bus }));
  router.use(qrRoutes({ core, service, bus, apps: deps.apps, wechat: deps.wechat, linkCodes: deps.linkCodes }));
  router.use(mpRoutes({ core, service, phone: deps.phone }));
  router.use(testHelperRoutes({ service, apps: deps.apps }));

  return {
    service,
    feature: {
      name: 'sessions',
      router,
      upgrade: (req, socket, head) => ws.upgrade(req, socket, head),
      async start() {
        await bus.start();
        resync.start();
        recovery.start();
      },
      async stop() {
        await ws.close();
        await recovery.stop();
        await resync.stop();
        await bus.stop();
      },
    },
  };
}
