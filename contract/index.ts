/** The public contract, one source for server, console, SDK and the OpenAPI document. */
export * from './common.js';
export * from './console.js';
export * from './constants.js';
export * from './sessions.js';
export * from './tokens.js';
export * from './users.js';
export * from './webhooks.js';
export * from './oidc.js';
export * from './openapi.js';
export * from './billing.js';
export * from './audit.js';
