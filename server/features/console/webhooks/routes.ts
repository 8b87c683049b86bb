import type { Request } from 'express';
import { z } from 'zod';
import type { Db } from '../../../db/client';
import { ApiError } from '../../../lib/errors';
import { parse } from '../../../lib/http';
import { endpointInput, endpointPatch, messagesQuery, replayBody, replayFailedBody } from '../../../../contract/webhooks.js';
import type { WebhookScope } from '../../webhooks/index';
import { stillMember } from '../activity/store';
import type { LiveSource, LiveStreams } from '../activity/stream';
import { getTenantApp } from '../apps/store';
import { idParam, type ConsoleRouter } from '../auth/guard';
import type { ConsolePorts } from '../ports';
import { audit, consoleActor } from '../../audit/index';

const modeQuery = z.object({ mode: z.enum(['test', 'live']).default('test') });

/**
 * The console's webhook pages: the same service the server API uses, reached through the
 * console's doors (cookie session, tenant membership; admins for anything that changes or
 * reveals). Every route names the app and a `?mode=`; both must belong to the tenant.
 */
export function mountWebhookRoutes(r: ConsoleRouter, deps: { db: Db; webhooks: ConsolePorts['webhooks']; streams: LiveStreams }): void {
  const svc = deps.webhooks;
  const base = '/tenants/:tenantId/apps/:appId/webhooks';

  async function scope(req: Request, tenantId: string): Promise<WebhookScope> {
    const app = await getTenantApp(deps.db, tenantId, idParam(req, 'appId', 'app'));
    const { mode } = parse(modeQuery, { mode: req.query.mode }, 'query');
    return { tenantId, appId: app.id, mode };
  }
  const endpointId = (req: Request) => idParam(req, 'endpointId', 'ep');
  const messageId = (req: Request) => idParam(req, 'messageId', 'msg');

  r.read(`${base}/endpoints`, async (req, _res, ctx) => ({ data: await svc.store.listEndpoints(await scope(req, ctx.tenantId)) }));

  r.write('post', `${base}/endpoints`, 'admin', async (req, res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const input = parse(endpointInput, req.body ?? {});
    const created = await svc.createEndpoint(sc, input);
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: sc.appId, action: 'webhook_endpoint.created', target: { type: 'webhook_endpoint', id: created.endpoint.id }, summary: { mode: sc.mode, url: created.endpoint.url } });
    res.status(201);
    return { ...created.endpoint, secret: created.secret };
  });

  r.read(`${base}/endpoints/:endpointId`, async (req, _res, ctx) => {
    const ep = await svc.store.getEndpoint(await scope(req, ctx.tenantId), endpointId(req));
    if (!ep) throw new ApiError('not_found', 'No such webhook endpoint');
    return ep;
  });

  r.write('patch', `${base}/endpoints/:endpointId`, 'admin', async (req, _res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const patch = parse(endpointPatch, req.body ?? {});
    const updated = await svc.updateEndpoint(sc, endpointId(req), patch);
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: sc.appId, action: 'webhook_endpoint.updated', target: { type: 'webhook_endpoint', id: endpointId(req) }, summary: { mode: sc.mode, after: patch } });
    return updated;
  });

  r.write('delete', `${base}/endpoints/:endpointId`, 'admin', async (req, _res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    if (!(await svc.store.deleteEndpoint(sc, endpointId(req)))) throw new ApiError('not_found', 'No such webhook endpoint');
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: sc.appId, action: 'webhook_endpoint.deleted', target: { type: 'webhook_endpoint', id: endpointId(req) }, summary: { mode: sc.mode } });
    return undefined;
  });

  // A POST, not a GET: revealing a secret is an admin action and goes through the CSRF check.
  r.write('post', `${base}/endpoints/:endpointId/secret`, 'admin', async (req, _res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const secret = await svc.store.revealSecret(sc, endpointId(req));
    if (!secret) throw new ApiError('not_found', 'No such webhook endpoint');
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: sc.appId, action: 'webhook_endpoint.secret_revealed', target: { type: 'webhook_endpoint', id: endpointId(req) } });
    return { secret };
  });

  r.write('post', `${base}/endpoints/:endpointId/rotate`, 'admin', async (req, _res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const rotated = await svc.store.rotateSecret(sc, endpointId(req));
    if (!rotated) throw new ApiError('not_found', 'No such webhook endpoint');
    await audit(deps.db, consoleActor(req, ctx.account), { tenantId: ctx.tenantId, appId: sc.appId, action: 'webhook_endpoint.secret_rotated', target: { type: 'webhook_endpoint', id: endpointId(req) } });
    return { secret: rotated.secret, previousSecretExpiresAt: rotated.previousSecretUntil };
  });

  r.write('post', `${base}/endpoints/:endpointId/test`, 'admin', async (req, res, ctx) => {
    res.status(202);
    return svc.sendTestEvent(await scope(req, ctx.tenantId), endpointId(req));
  });

  r.write('post', `${base}/endpoints/:endpointId/replay-failed`, 'admin', async (req, res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const { since } = parse(replayFailedBody, req.body ?? {});
    res.status(202);
    return svc.replayFailed(sc, endpointId(req), since);
  });

  r.read(`${base}/messages`, async (req, _res, ctx) => {
    const s = await scope(req, ctx.tenantId);
    const { mode: _mode, ...rest } = req.query;
    return svc.messagesPage(s, parse(messagesQuery, rest, 'query'));
  });

  r.read(`${base}/messages/:messageId/attempts`, async (req, _res, ctx) => {
    const attempts = await svc.store.listAttempts(await scope(req, ctx.tenantId), messageId(req));
    if (!attempts) throw new ApiError('not_found', 'No such webhook message');
    return { data: attempts };
  });

  r.write('post', `${base}/messages/:messageId/replay`, 'admin', async (req, res, ctx) => {
    const sc = await scope(req, ctx.tenantId);
    const { endpointId: only } = parse(replayBody, req.body ?? {});
    res.status(202);
    return svc.replayMessage(sc, messageId(req), only);
  });

  /**
   * The delivery log, live (server-sent events): `delivery` (a DeliveryEvent: the delivery's
   * state, attempts and next attempt, with its message id and type) whenever a delivery is
   * attempted or changes state, and `endpoint` (the endpoint object, with its breaker)
   * whenever an endpoint's breaker moves or it is edited. Polled every 2 s: each event is a
   * row's latest state, so changes quicker than that arrive as the last of them.
   */
  r.read(`${base}/stream`, async (req, res, ctx) => {
    const s = await scope(req, ctx.tenantId);
    const changes: LiveSource = async (since, windowSeconds) => {
      const [endpoints, deliveries] = await Promise.all([
        svc.store.endpointChanges(s, since, windowSeconds),
        svc.store.deliveryChanges(s, since, windowSeconds),
      ]);
      return [
        ...endpoints.map((ep) => ({ key: `${ep.id}@${ep.updatedAt}`, at: new Date(ep.updatedAt), event: 'endpoint', data: ep })),
        ...deliveries.map((d) => ({ key: `${d.id}@${d.updatedAt}`, at: new Date(d.updatedAt), event: 'delivery', data: d })),
      ];
    };
    deps.streams.open(res, changes, () => stillMember(deps.db, ctx.tokenHash, ctx.tenantId, s.appId));
    return undefined;
  });
}
