export { verifyWebhook, WebhookVerificationError } from './webhooks.js';
export type { HeadersLike, LoginCancelled, LoginSucceeded, UserCreated, VerifyWebhookOptions, WebhookErrorReason, WebhookEvent } from './webhooks.js';
export { clearJwksCache, modeOfKey, TokenVerificationError, verifyToken } from './tokens.js';
export type { TokenClaims, TokenErrorReason, VerifyTokenOptions } from './tokens.js';
