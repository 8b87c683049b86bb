import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import { createSessionBus } from './bus';
import { createGate } from './gate';
import type { ActivityPort, OutboxPort, SignerPort, WechatPort } from './ports';
import { sessionRoutes } from './routes';
import { createSessionService, type SessionService } from './service';
import { createSessionStore } from './store';
import { createWsGateway } from './ws';

/**
 * The login core: session state in Redis, the widget's socket and polling API, the
 * mini-program API, and routing of events to whichever instance holds the browser.
 */
export function createSessionsFeature(core: Core, deps: { apps: AppsStore; wechat: WechatPort; signer: SignerPort; outbox: OutboxPort; activity: ActivityPort }): {
  feature: Feature;
  service: SessionService;
} {
  const store = createSessionStore(core.redis.client, (id) => core.key('sess', `{${id}}`));
  const bus = createSessionBus({
    instanceId: core.instanceId,
    channelOf: (instance) => core.key('inst', instance),
    publisher: core.redis.client,
    subscriber: core.redis.duplicate({ maxRetriesPerRequest: null }),
    logger: core.logger,
  });
  const service = createSessionService({ core, store, bus, ...deps });
  const gate = createGate(core, deps.apps);
  // The socket sees the raw request, so apply the same trust-proxy rule Express uses for req.ip.
  const trust = proxyAddr.compile(core.config.trustProxy.split(',').map((s) => s.trim()));
  const ipOf = (req: IncomingMessage) => proxyAddr(req, trust);
  const ws = createWsGateway({ core, gate, service, bus, ipOf });
  return {
    service,
    feature: {
      name: 'sessions',
      router: sessionRoutes({ core, gate, service, bus, apps: deps.apps, wechat: deps.wechat }),
      upgrade: (req, socket, head) => ws.upgrade(req, socket, head),
      start: () => bus.start(),
      async stop() {
        await ws.close();
        await bus.stop();
      },
    },
  };
}
