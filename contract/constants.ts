/**
 * The contract's enumerations as plain values, without zod, so a browser bundle that needs
 * only a list (the console's event checkboxes) doesn't carry the schema library.
 */
/** Test keys talk to the sandbox; live keys to WeChat. Tokens, users and webhooks carry their mode. */
export const MODES = ['test', 'live'] as const;
/** Which build of the mini-program a code opens (WeChat's `env_version`). */
export const ENV_VERSIONS = ['release', 'trial', 'develop'] as const;
/** The webhook event types a tenant can subscribe to (DESIGN §4). */
export const EVENT_TYPES = ['login.succeeded', 'login.cancelled', 'user.created', 'user.deleted', 'billing.quota_warning'] as const;
/** Sent only by "send test event", to one endpoint, whatever it subscribes to. */
export const TEST_EVENT_TYPE = 'webhook.test';
/** Whether an app asks the visitor for their WeChat-verified phone number (issue 24). */
export const PHONE_NUMBER_SETTINGS = ['off', 'optional', 'required'] as const;
export const ROLES = ['owner', 'admin', 'viewer'] as const;
/** How a session's code is drawn (DESIGN §11): a mini-program code from WeChat, or an ordinary QR code of our link. */
export const CODE_STYLES = ['wxacode', 'link'] as const;
