import type { Mailer } from '../mail/index';
import type { KeyMode } from '../../lib/ids';
import type { AppsStore } from '../apps/store';
import type { UserRights } from '../users/index';
import type { WebhookService } from '../webhooks/index';
import type { OidcClientService } from '../oidc/index';
import type { BillingService } from '../billing/index';

/** The slices of other features the console uses; main.ts passes the real ones. */
export interface ConsolePorts {
  apps: Pick<AppsStore, 'createApp' | 'createKeyPair' | 'invalidate'>;
  /** The WeChat gateway's live check: stable token, then a code for the configured page. */
  wechat: { verifyApp(ref: { appId: string; mode: KeyMode }): Promise<VerifyOutcome> };
  tokens: { rotateSigningKey(appId: string): Promise<{ kid: string }> };
  /** The one webhook service main.ts builds; the console's webhook pages are another door to it. */
  webhooks: WebhookService;
  /** End users' rights (export, erasure): the same service the server API uses. */
  users: UserRights;
  /** OIDC clients of an app (features/oidc's service): the same one /v1/oidc_clients uses. */
  oidcClients: OidcClientService;
  /** The Billing page (features/billing's service); `enabled` false hides it. */
  billing: Pick<BillingService, 'enabled' | 'status' | 'byDay' | 'invoices' | 'checkout' | 'portal'>;
  /** Verification and reset links go out through it (features/mail). */
  mailer: Mailer;
}

/** The gateway's VerifyResult, as far as the console reads it (`errmsg` carries the IP for 40164 when given). */
export interface VerifyOutcome {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; errcode?: number; message?: string; errmsg?: string }>;
}
