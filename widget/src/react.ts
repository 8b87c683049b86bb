/**
 * JSX typings for React 19: `import 'wechat-scan-login/react'` registers the element (like the
 * main entry) and types `<wechat-scan-login>` in TSX. React 19 sets known properties, passes the
 * rest as attributes, and listens to `on<event>` props by the exact event name, so the
 * listeners are `onlogin`, `onfailed`, … in lower case.
 */
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { WechatScanLoginAttributes, WechatScanLoginElement, WechatScanLoginEventMap } from './types';

type Listeners = {
  [K in keyof WechatScanLoginEventMap as `on${K}`]?: (event: WechatScanLoginEventMap[K]) => void;
};

/** The props `<wechat-scan-login>` takes in TSX (React sets `strings`, an object, as a property). */
export interface WechatScanLoginProps
  extends Omit<DetailedHTMLProps<HTMLAttributes<WechatScanLoginElement>, WechatScanLoginElement>, 'lang'>, WechatScanLoginAttributes, Listeners {}

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'wechat-scan-login': WechatScanLoginProps;
    }
  }
}

export type * from './index';
