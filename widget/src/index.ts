import { WechatScanLogin } from './element';
import type { WechatScanLoginElement } from './types';

export type * from './types';

// Two script tags (or two copies bundled by different apps) must not throw: first one wins.
customElements.get('wechat-scan-login') || customElements.define('wechat-scan-login', WechatScanLogin);

declare global {
  interface HTMLElementTagNameMap {
    'wechat-scan-login': WechatScanLoginElement;
  }
}
