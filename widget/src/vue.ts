/**
 * Vue 3 typings: `import 'wechat-scan-login/vue'` registers the element (like the main entry)
 * and declares `<wechat-scan-login>` in Vue's `GlobalComponents`, so templates type-check its
 * attributes and `@login`, `@failed`, … listeners. Vue itself must still be told the tag is a
 * custom element (`compilerOptions.isCustomElement`).
 */
import type { DefineComponent } from 'vue';
import type { WechatScanLoginAttributes, WechatScanLoginEventMap } from './types';

type Listeners = {
  [K in keyof WechatScanLoginEventMap as `on${Capitalize<K>}`]?: (event: WechatScanLoginEventMap[K]) => void;
};

/** The attributes and listeners `<wechat-scan-login>` takes in a Vue template (bind `:strings` to an object). */
export interface WechatScanLoginVueProps extends WechatScanLoginAttributes, Listeners {}

declare module 'vue' {
  interface GlobalComponents {
    'wechat-scan-login': DefineComponent<WechatScanLoginVueProps>;
  }
}

export type * from './index';
