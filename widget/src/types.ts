import type { Strings } from './i18n';
import type { LoginUser, State } from './protocol';

export type { Lang, Strings } from './i18n';
export type { LoginUser, State } from './protocol';

/** The `detail` of each event `<wechat-scan-login>` dispatches (all bubble and are composed). */
export interface WechatScanLoginEventMap {
  login: CustomEvent<{ token: string; user: LoginUser }>;
  scanned: CustomEvent<null>;
  cancelled: CustomEvent<null>;
  expired: CustomEvent<null>;
  failed: CustomEvent<{ code: string; message: string }>;
  statechange: CustomEvent<{ state: State }>;
}

/** The attributes of `<wechat-scan-login>` as JSX and Vue templates write them. */
export interface WechatScanLoginAttributes {
  /** The app's publishable key, `pk_test_…` or `pk_live_…`. */
  'site-key': string;
  /** Base URL of the service. Required once the element is bundled into your app. */
  server?: string;
  lang?: 'zh-CN' | 'en' | (string & {});
  theme?: 'light' | 'dark' | 'auto';
  'auto-refresh'?: boolean;
  /** Overrides for any built-in string, as an object (frameworks set it as a property). */
  strings?: Partial<Strings>;
}

/** The public surface of `<wechat-scan-login>`, independent of how it is implemented. */
export interface WechatScanLoginElement extends HTMLElement {
  /** `site-key`: the app's publishable key, `pk_test_…` or `pk_live_…`. */
  siteKey: string | undefined;
  /** `server`: the service's base URL; defaults to the origin `widget.js` was loaded from. */
  server: string | undefined;
  /** `lang`: `zh-CN` or `en`; default from the page, then the browser. */
  lang: string;
  /** `theme`: `light`, `dark`, or follow `prefers-color-scheme` (default). */
  theme: 'light' | 'dark' | 'auto' | undefined;
  /** `auto-refresh`: fetch a new code as soon as one expires. */
  autoRefresh: boolean;
  /** Overrides for any built-in string (also settable as a JSON `strings` attribute). */
  strings: Partial<Strings> | undefined;
  readonly state: State;
  /** The current session id (the code's public `scene`), for end-to-end tests with test helpers. */
  readonly sessionId: string | undefined;
  refresh(): void;
  addEventListener<K extends keyof WechatScanLoginEventMap>(
    type: K,
    listener: (this: WechatScanLoginElement, ev: WechatScanLoginEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof WechatScanLoginEventMap>(
    type: K,
    listener: (this: WechatScanLoginElement, ev: WechatScanLoginEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}
