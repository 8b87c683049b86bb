import type { PhoneNumberSetting, ScanAnswer } from '../../../contract/index.js';
import { ApiError } from '../../lib/errors';
import type { AppRecord, AppsStore } from '../apps/store';
import type { WechatGateway } from '../wechat/index';
import type { PhoneOwner, PhoneStore } from './store';

/** The OIDC standard claims a token or userinfo carries for an app that asks for the number. */
export interface PhoneClaims {
  phone_number: string;
  phone_number_verified: true;
}

export interface PhoneService {
  /** What the phone shows before consent: absent when the app does not ask. */
  asks(appId: string): Promise<ScanAnswer['asks']>;
  /**
   * Runs before a confirm is handed to the login core: with a code, exchanges it with WeChat
   * and stores the number; without one, refuses a `required` app and forgets an earlier number
   * of an `optional` one (declining now means not sharing it with this login). A failure throws
   * plain words for the phone and the confirm does not happen.
   */
  beforeConfirm(owner: PhoneOwner, phoneCode: string | undefined): Promise<void>;
}

export interface PhoneClaimsSource {
  /** For token and userinfo: only apps that ask, only numbers WeChat vouched for. */
  claims(app: Pick<AppRecord, 'id' | 'tenantId' | 'phoneNumber'>, mode: PhoneOwner['mode'], openid: string): Promise<PhoneClaims | null>;
}

/** Apart from the service: tokens are built before the WeChat gateway exists, and need only the store. */
export function phoneClaims(store: Pick<PhoneStore, 'read'>): PhoneClaimsSource {
  return {
    async claims(app, mode, openid) {
      if (app.phoneNumber === 'off') return null;
      const stored = await store.read({ tenantId: app.tenantId, appId: app.id, mode, openid });
      return stored ? { phone_number: stored.phoneNumber, phone_number_verified: true } : null;
    },
  };
}

export const asksFor = (setting: PhoneNumberSetting): ScanAnswer['asks'] => (setting === 'off' ? undefined : { phoneNumber: setting });

export function createPhoneService(deps: { apps: Pick<AppsStore, 'getApp'>; wechat: Pick<WechatGateway, 'getUserPhoneNumber'>; store: PhoneStore }): PhoneService {
  const { apps, wechat, store } = deps;

  return {
    async asks(appId) {
      const app = await apps.getApp(appId);
      return app ? asksFor(app.phoneNumber) : undefined;
    },

    async beforeConfirm(owner, phoneCode) {
      const app = await apps.getApp(owner.appId);
      // With `off` nothing changes: a stray code is neither exchanged nor stored.
      if (!app || app.phoneNumber === 'off') return;
      if (!phoneCode) {
        if (app.phoneNumber === 'required') {
          throw new ApiError('phone_required', 'This site needs your phone number to log you in; without it the login is cancelled');
        }
        await store.remove(owner);
        return;
      }
      const { phoneNumber } = await wechat.getUserPhoneNumber({ appId: owner.appId, mode: owner.mode }, phoneCode);
      await store.save(owner, phoneNumber, new Date());
    },
  };
}

/**
 * The webhooks' delivery-time addition: `login.succeeded` of an app that asks carries the number
 * the visitor shared. Added at each attempt rather than stored in the outbox, where it would sit
 * in clear (and outlive an erasure).
 */
export function phoneInWebhooks(apps: Pick<AppsStore, 'getApp'>, source: PhoneClaimsSource) {
  return async (m: { appId: string; mode: PhoneOwner['mode']; type: string; payload: Record<string, unknown> }): Promise<Record<string, unknown>> => {
    const data = m.payload.data as Record<string, unknown> | undefined;
    if (m.type !== 'login.succeeded' || typeof data?.openid !== 'string') return m.payload;
    const app = await apps.getApp(m.appId);
    const phone = app ? await source.claims(app, m.mode, data.openid) : null;
    if (!phone) return m.payload;
    return { ...m.payload, data: { ...data, phoneNumber: phone.phone_number, phoneNumberVerified: phone.phone_number_verified } };
  };
}
