import type { Core, Feature } from '../../core';
import type { AppsStore } from '../apps/store';
import type { LinkCodePort, WechatPort } from '../sessions/ports';
import type { SessionService } from '../sessions/index';
import { codeLink, drawLinkCode } from './link';
import { codeRoutes } from './routes';

export { checkFileBody, deleteCheckFile, getCheckFile, putCheckFile } from './check-files';
export { linkRulePrefix } from './link';

/**
 * Codes at any rate (DESIGN §11): link-style codes we draw ourselves, their rule prefix
 * {PUBLIC_URL}/q/{appId}/ with WeChat's check file, and the page a link shows outside WeChat.
 */
export function createCodesFeature(core: Core, deps: { apps: AppsStore; sessions: Pick<SessionService, 'get'>; wechat: WechatPort }): { feature: Feature } {
  return { feature: { name: 'codes', router: codeRoutes({ core, ...deps }) } };
}

/** What sessions draws a link-style code with (its LinkCodePort). */
export function createLinkCodes(core: Pick<Core, 'config'>): LinkCodePort {
  return { draw: (appId, sessionId) => drawLinkCode(codeLink(core.config.publicUrl, appId, sessionId)) };
}
