/**
 * JSX typings for React 19: `import 'wechat-scan-login/react'` registers the element (like the
 * main entry) and types `<wechat-scan-login>` in TSX. React 19 sets known properties, passes the
 * rest as attributes, and listens to `on<event>` props by the exact event name, so the
 * listeners are `onlogin`, `onfailed`, … in lower case.
 */
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { Strings } from './i18n';
import type { WechatScanLoginElement, WechatScanLoginEventMap } from './types';

type Listeners = {
  [K in keyof WechatScanLoginEventMap as `on${K}`]?: (event: WechatScanLoginEventMap[K]) => void;
};

/** The props `<wechat-scan-login>` takes in TSX. */
export interface WechatScanLoginProps extends DetailedHTMLProps<HTMLAttributes<WechatScanLoginElement>, WechatScanLoginElement>, Listeners {
  /** The app's publishable key, `pk_test_…` or `pk_live_…`. */
  'site-key': string;
  /** Base URL of the service. Required once the element is bundled into your app. */
  server?: string;
  lang?: 'zh-CN' | 'en' | (string & {});
  theme?: 'light' | 'dark' | 'auto';
  'auto-refresh'?: boolean;
  /** Overrides for any built-in string (an object: React sets it as a property). */
  strings?: Partial<Strings>;
}

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'wechat-scan-login': WechatScanLoginProps;
    }
  }
}

export type * from './index';
