/**
 * The visitor's WeChat-verified phone number, for apps that ask (setting `phoneNumber`): the
 * exchange of the getPhoneNumber button's code at confirm time (service), the sealed number at
 * rest (store), and the claims tokens and userinfo read from it. No routes of its own: the
 * mini-program API, tokens, OIDC and the users API call in. Wired in main.ts.
 */
export { createPhoneService, phoneClaims, phoneInWebhooks, asksFor, type PhoneClaims, type PhoneClaimsSource, type PhoneService } from './service';
export { phoneSandboxRoutes } from './sandbox-routes';
export { createPhoneStore, type PhoneOwner, type PhoneStore, type StoredPhone } from './store';
