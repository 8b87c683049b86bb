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
      // With `off` nothing changes: a stray code is not exchanged (WeChat would charge for it).
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
