import type { SQL } from 'drizzle-orm';
import type { AppRef, EnvVersion, EventType, ScanAnswer } from '../../../contract/index.js';
import type { Tx } from '../../db/client';
import type { KeyMode } from '../../lib/ids';
import type { AppRecord } from '../apps/store';

/**
 * The slices of other features the login flow uses. Declared here, satisfied structurally by
 * the wechat, tokens and webhooks features, so sessions depends on behaviour, not modules.
 */
export type { AppRef };

export interface WechatPort {
  getCode(ref: AppRef, req: { scene: string; page: string; checkPath: boolean; envVersion: EnvVersion }): Promise<{ contentType: string; body: Buffer }>;
  code2Session(ref: AppRef, code: string): Promise<{ openid: string; unionid?: string }>;
  sandboxPhoneCode(appId: string, openid: string): Promise<string>;
  generateUrlLink(ref: AppRef, req: { page: string; query: string; envVersion: EnvVersion }): Promise<string>;
}

/** Link-style codes (features/codes, DESIGN §11): an ordinary QR code we draw; no WeChat call. */
export interface LinkCodePort {
  draw(appId: string, sessionId: string): Promise<{ contentType: string; body: Buffer }>;
}

export interface SignerPort {
  sign(app: AppRecord, mode: KeyMode, claims: { sub: string; openid: string; unionid?: string; name?: string; picture?: string; jti: string }): Promise<string>;
}


/** Billing's part of a login (features/billing): monthly-active-user rows and scan-time limits. */
export interface ActivityPort {
  /** CTEs appended to the login's statement, reading its CTEs `u` (the end user) and `e` (the event, if written). */
  statementCtes(scope: { tenantId: string; appId: string; mode: KeyMode }, at: Date): SQL;
  /** A reason to refuse this scan (a plan's limit), or null. Called once the scanner's openid is known. */
  refusal(scope: { tenantId: string; appId: string; mode: KeyMode }, openid: string): Promise<{ code: 'quota_exceeded'; message: string } | null>;
}

/** The phone-number feature (features/phone), used by the mini-program API only. */
export interface PhonePort {
  asks(appId: string): Promise<ScanAnswer['asks']>;
  beforeConfirm(owner: { tenantId: string; appId: string; mode: KeyMode; openid: string }, phoneCode: string | undefined): Promise<void>;
}

/** The OpenID Provider's hosted page: whether a request carries its pass for this app and mode. */
export interface HostedPagePort {
  admits(cookieHeader: string | undefined, appId: string, mode: KeyMode): boolean;
}

export interface OutboxPort {
  record(tx: Tx, msg: { tenantId: string; appId: string; mode: KeyMode; type: EventType; data: Record<string, unknown> }): Promise<string>;
  /** CTEs `m` and `d` writing the outbox rows for a CTE `msgs (id, type, data)`: see webhooks/outbox.ts. */
  statementCtes(scope: { tenantId: string; appId: string; mode: KeyMode }, at: Date): SQL;
  dispatch(messageIds: string[]): Promise<void>;
  /** Deliveries the login's statement wrote (`d`), enqueued without a lookup. */
  enqueue(deliveries: Array<{ id: string; endpointId: string }>, due: Date): Promise<void>;
}
