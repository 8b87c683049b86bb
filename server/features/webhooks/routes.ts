import { Router, type Response } from 'express';
import { ApiError } from '../../lib/errors';
import { jsonBody, parse } from '../../lib/http';
import type { Idempotency } from '../../lib/idempotency';
import { requireSecretKey, secretKeyAuth } from '../apps/auth';
import type { AppsStore } from '../apps/store';
import { ENDPOINT_ID, endpointInput, endpointPatch, idParam, MESSAGE_ID, messagesQuery, replayBody, replayFailedBody } from './schemas';
import type { WebhookService } from './service';
import type { WebhookScope } from './store';

/** The server API over webhook endpoints and messages, scoped to the secret key's app and mode. */
export function webhooksRouter(deps: { apps: AppsStore; service: WebhookService; idempotency: Idempotency }): Router {
  const router = Router();
  const auth = requireSecretKey(deps.apps);
  const json = jsonBody('8kb');
  const svc = deps.service;

  function scopeOf(res: Response): WebhookScope {
    const { app, mode } = secretKeyAuth(res);
    return { tenantId: app.tenantId, appId: app.id, mode };
  }
  const noStore = (res: Response) => res.setHeader('Cache-Control', 'no-store');

  router.post('/v1/webhook_endpoints', auth, json, async (req, res) => {
    const body = parse(endpointInput, req.body ?? {});
    noStore(res);
    await deps.idempotency.respond(req, res, scopeOf(res), 'webhook_endpoints.create', async () => {
      const created = await svc.createEndpoint(scopeOf(res), body);
      return { status: 201, body: { ...created.endpoint, secret: created.secret } };
    });
  });

  router.get('/v1/webhook_endpoints', auth, async (_req, res) => {
    noStore(res);
    res.json({ data: await svc.store.listEndpoints(scopeOf(res)) });
  });

  router.get('/v1/webhook_endpoints/:id', auth, async (req, res) => {
    const ep = await svc.store.getEndpoint(scopeOf(res), idParam(req.params.id, ENDPOINT_ID, 'webhook endpoint'));
    if (!ep) throw new ApiError('not_found', 'No such webhook endpoint');
    noStore(res);
    res.json(ep);
  });

  router.patch('/v1/webhook_endpoints/:id', auth, json, async (req, res) => {
    const id = idParam(req.params.id, ENDPOINT_ID, 'webhook endpoint');
    const ep = await svc.updateEndpoint(scopeOf(res), id, parse(endpointPatch, req.body ?? {}));
    noStore(res);
    res.json(ep);
  });

  router.delete('/v1/webhook_endpoints/:id', auth, async (req, res) => {
    const id = idParam(req.params.id, ENDPOINT_ID, 'webhook endpoint');
    if (!(await svc.store.deleteEndpoint(scopeOf(res), id))) throw new ApiError('not_found', 'No such webhook endpoint');
    res.json({ id, deleted: true });
  });

  router.post('/v1/webhook_endpoints/:id/rotate_secret', auth, async (req, res) => {
    const id = idParam(req.params.id, ENDPOINT_ID, 'webhook endpoint');
    const r = await svc.store.rotateSecret(scopeOf(res), id);
    if (!r) throw new ApiError('not_found', 'No such webhook endpoint');
    noStore(res);
    res.json({ id, secret: r.secret, previousSecretExpiresAt: r.previousSecretUntil });
  });

  router.post('/v1/webhook_endpoints/:id/test', auth, async (req, res) => {
    const id = idParam(req.params.id, ENDPOINT_ID, 'webhook endpoint');
    res.status(202).json(await svc.sendTestEvent(scopeOf(res), id));
  });

  router.post('/v1/webhook_endpoints/:id/replay_failed', auth, json, async (req, res) => {
    const id = idParam(req.params.id, ENDPOINT_ID, 'webhook endpoint');
    const { since } = parse(replayFailedBody, req.body ?? {});
    res.status(202).json(await svc.replayFailed(scopeOf(res), id, since));
  });

  router.get('/v1/webhook_messages', auth, async (req, res) => {
    const page = await svc.messagesPage(scopeOf(res), parse(messagesQuery, req.query, 'query'));
    noStore(res);
    res.json(page);
  });

  router.get('/v1/webhook_messages/:id/attempts', auth, async (req, res) => {
    const attempts = await svc.store.listAttempts(scopeOf(res), idParam(req.params.id, MESSAGE_ID, 'webhook message'));
    if (!attempts) throw new ApiError('not_found', 'No such webhook message');
    noStore(res);
    res.json({ data: attempts });
  });

  router.post('/v1/webhook_messages/:id/replay', auth, json, async (req, res) => {
    const id = idParam(req.params.id, MESSAGE_ID, 'webhook message');
    const { endpointId } = parse(replayBody, req.body ?? {});
    res.status(202).json(await svc.replayMessage(scopeOf(res), id, endpointId));
  });

  return router;
}
