/**
 * Vue 3 typings: `import 'wechat-scan-login/vue'` registers the element (like the main entry)
 * and declares `<wechat-scan-login>` in Vue's `GlobalComponents`, so templates type-check its
 * attributes and `@login`, `@failed`, … listeners. Vue itself must still be told the tag is a
 * custom element (`compilerOptions.isCustomElement`).
 */
import type { DefineComponent } from 'vue';
import type { Strings } from './i18n';
import type { WechatScanLoginEventMap } from './types';

type Listeners = {
  [K in keyof WechatScanLoginEventMap as `on${Capitalize<K>}`]?: (event: WechatScanLoginEventMap[K]) => void;
};

/** The attributes and listeners `<wechat-scan-login>` takes in a Vue template. */
export interface WechatScanLoginVueProps extends Listeners {
  /** The app's publishable key, `pk_test_…` or `pk_live_…`. */
  'site-key': string;
  /** Base URL of the service. Required once the element is bundled into your app. */
  server?: string;
  lang?: 'zh-CN' | 'en' | (string & {});
  theme?: 'light' | 'dark' | 'auto';
  'auto-refresh'?: boolean;
  /** Overrides for any built-in string: bind an object with `:strings` (Vue sets it as a property). */
  strings?: Partial<Strings>;
}

declare module 'vue' {
  interface GlobalComponents {
    'wechat-scan-login': DefineComponent<WechatScanLoginVueProps>;
  }
}

export type * from './index';
