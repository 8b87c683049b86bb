import { Router } from 'express';
import { z } from 'zod';
import type { Core, Feature } from '../../core';
import { ApiError } from '../../lib/errors';
import { parse } from '../../lib/http';
import { createAvatarStore } from './store';
import { readMultipart, sniffImageType } from './upload';

export const MAX_AVATAR_BYTES = 512 * 1024;
/** A visitor may change their mind a few times; more than this per login is abuse. */
const MAX_AVATARS_PER_SESSION = 5;

/** What this feature needs from sessions: is this ticket the scanner's, for this scene? */
export interface TicketChecker {
  checkTicket(scene: string, ticket: string): Promise<{ appId: string; tenantId: string }>;
}

const uploadFields = z.object({
  scene: z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be the 22-character scene from the code'),
  ticket: z.string().min(20).max(100),
});
const AVATAR_ID = /^avt_[A-Za-z0-9]{16}$/;

/**
 * The optional avatar of the confirm page (`open-type="chooseAvatar"` gives a local temp
 * file, which wx.uploadFile posts here). Stored in Postgres beside the tenant's data and
 * served from our own origin, so the `picture` claim is a URL that keeps working.
 */
export function createProfileFeature(core: Core, deps: { sessions: TicketChecker }): { feature: Feature } {
  const store = createAvatarStore(core.db);
  const router = Router();

  router.post('/v1/mp/avatar', async (req, res) => {
    const declared = Number(req.get('content-length') ?? 0);
    if (declared > MAX_AVATAR_BYTES + 16 * 1024) {
      res.setHeader('Connection', 'close');
      throw new ApiError('payload_too_large', `The avatar must be at most ${MAX_AVATAR_BYTES / 1024} KB`);
    }
    const upload = await readMultipart(req, { fileField: 'file', maxFileBytes: MAX_AVATAR_BYTES, maxFields: 4 }).catch((err: unknown) => {
      // Whatever is left of a refused body is not worth reading on this connection.
      res.setHeader('Connection', 'close');
      throw err;
    });
    const { scene, ticket } = parse(uploadFields, { scene: upload.fields.scene, ticket: upload.fields.ticket });
    const owner = await deps.sessions.checkTicket(scene, ticket);
    if (!upload.file || upload.file.length === 0) throw new ApiError('bad_request', 'body.file: the image is missing');
    const contentType = sniffImageType(upload.file);
    if (!contentType) throw new ApiError('bad_request', 'body.file: the avatar must be a PNG, JPEG or WebP image');
    if ((await store.countForSession(owner.appId, scene)) >= MAX_AVATARS_PER_SESSION) {
      throw new ApiError('rate_limited', 'Too many avatars for this login');
    }
    const id = await store.insert({ tenantId: owner.tenantId, appId: owner.appId, sessionId: scene, contentType, bytes: upload.file });
    res.json({ avatarUrl: `${core.config.publicUrl}/v1/avatars/${id}` });
  });

  router.get('/v1/avatars/:id', async (req, res) => {
    const id = String(req.params.id);
    const avatar = AVATAR_ID.test(id) ? await store.get(id) : null;
    if (!avatar) throw new ApiError('not_found', 'No such avatar');
    res.setHeader('Content-Type', avatar.contentType);
    // Ids are never reused, so the bytes behind one never change.
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    // Tenant sites show it in <img> from their own origin.
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.send(avatar.bytes);
  });

  return { feature: { name: 'profile', router } };
}
