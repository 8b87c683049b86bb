import type { RequestHandler, Response } from 'express';
import { ApiError } from '../../lib/errors';
import type { KeyMode } from '../../lib/ids';
import type { AppRecord, AppsStore } from './store';

export interface SecretKeyAuth {
  app: AppRecord;
  mode: KeyMode;
  keyId: string;
}

/** Server API routes: `Authorization: Bearer sk_…`. The key decides the app and the mode. */
export function requireSecretKey(apps: AppsStore): RequestHandler {
  return async (req, res, next) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!m) throw new ApiError('invalid_key', 'Send your secret key as `Authorization: Bearer sk_…`');
    const auth = await apps.resolveSecretKey(m[1]!);
    if (!auth) throw new ApiError('invalid_key', 'This secret key is unknown or revoked');
    res.locals.secretKeyAuth = auth;
    next();
  };
}

export function secretKeyAuth(res: Response): SecretKeyAuth {
  const auth = res.locals.secretKeyAuth as SecretKeyAuth | undefined;
  if (!auth) throw new Error('secretKeyAuth() used on a route without requireSecretKey()');
  return auth;
}
