/**
 * The OpenAPI 3.1 document of the public API, generated from the same zod schemas the server
 * validates with (zod's JSON Schema is draft 2020-12, which OpenAPI 3.1 uses). Each public
 * route is one entry below; a test walks the server's route table and fails on a route that
 * has no entry, and checks real answers against the response schemas.
 */
import { z } from 'zod';
import { errorBodySchema, okSchema, pageQuery } from './common.js';
import { EVENT_TYPES, TEST_EVENT_TYPE } from './constants.js';
import { usageSchema } from './billing.js';
import { auditEventsPage, auditEventsQuery } from './audit.js';
import { oidcClientInput, createdOidcClientSchema, deletedOidcClientSchema, oidcClientSchema } from './oidc.js';
import { answerBody, confirmBody, eventsQuery, frameSchema, scanAnswerSchema, scanBody, sessionFrameSchema, testScanBody } from './sessions.js';
import { discoverySchema, jwksSchema, verifyTokenAnswer, verifyTokenBody } from './tokens.js';
import { deletedUserSchema, endUserPage, endUserSchema, userExportSchema } from './users.js';
import {
  attemptSchema, createdEndpointSchema, deletedSchema, endpointInput, endpointPatch, endpointSchema, eventDataSchemas, messagePage,
  messagesQuery, replayAnswer, replayBody, replayFailedAnswer, replayFailedBody, rotatedSecretSchema, testEventAnswer, testEventDataSchema,
} from './webhooks.js';

type Auth = 'secretKey' | 'publishableKey' | 'sessionSecret' | 'none';

interface Answer {
  description: string;
  /** JSON answers; `media` instead for images. */
  schema?: z.ZodType;
  media?: string[];
}

export interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI style: `/v1/users/{id}`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A multipart form instead of JSON. */
  form?: Record<string, 'string' | 'binary'>;
  responses: Record<number, Answer>;
  /** Error codes this operation may answer, besides bad_request. */
  errors?: string[];
}

const list = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item) });
const image = (description: string): Answer => ({ description, media: ['image/png', 'image/jpeg', 'image/webp'] });

/** Every public route. Console routes (`/console/api`) are the console's own and not listed. */
export const OPERATIONS: Operation[] = [
  // The browser side: the element uses these (or the WebSocket at /v1/ws).
  { method: 'post', path: '/v1/sessions', tag: 'Login sessions', auth: 'publishableKey', summary: 'Open a login session (polling fallback)',
    description: 'The WebSocket `GET /v1/ws?key=pk_…` does the same and pushes each state; this is for networks that block WebSockets.',
    responses: { 201: { description: 'The session frame: the code to show and the secret to poll with', schema: sessionFrameSchema } }, errors: ['invalid_key', 'origin_not_allowed', 'rate_limited'] },
  { method: 'get', path: '/v1/sessions/{id}/events', tag: 'Login sessions', auth: 'sessionSecret', summary: 'Long-poll for the next state (up to 25 s)',
    query: eventsQuery, responses: { 200: { description: 'The next frame, or the current one when nothing changed in the window', schema: frameSchema } }, errors: ['unauthorized'] },
  { method: 'get', path: '/v1/sessions/{id}/qr', tag: 'Login sessions', auth: 'none', summary: 'The code image of a waiting session',
    responses: { 200: image('The mini-program code') }, errors: ['session_not_found', 'wechat_error'] },

  // The confirm page in the tenant's mini-program.
  { method: 'post', path: '/v1/mp/scan', tag: 'Mini-program', auth: 'none', summary: 'The phone scanned: bind the session to this WeChat user',
    body: scanBody, responses: { 200: { description: 'What the phone shows before the visitor confirms', schema: scanAnswerSchema } },
    errors: ['session_not_found', 'session_expired', 'already_scanned', 'wechat_error', 'quota_exceeded'] },
  { method: 'post', path: '/v1/mp/confirm', tag: 'Mini-program', auth: 'none', summary: 'The visitor confirmed: the browser gets its token',
    description: 'For a site whose phoneNumber setting asks (the scan answer\'s `asks`), send `phoneCode` from the getPhoneNumber button: '
      + 'it is exchanged with WeChat (getuserphonenumber) and its watermark checked before the login; a refused or failed code records nothing. '
      + '`required` without it is `phone_required`.',
    body: confirmBody, responses: { 200: { description: 'Done', schema: okSchema } }, errors: ['session_not_found', 'session_expired', 'wrong_user', 'phone_required', 'wechat_error'] },
  { method: 'post', path: '/v1/mp/cancel', tag: 'Mini-program', auth: 'none', summary: 'The visitor tapped Cancel',
    body: answerBody, responses: { 200: { description: 'Done', schema: okSchema } }, errors: ['session_not_found', 'wrong_user'] },
  { method: 'post', path: '/v1/mp/avatar', tag: 'Mini-program', auth: 'none', summary: 'Upload the avatar chosen with chooseAvatar (optional)',
    form: { scene: 'string', ticket: 'string', file: 'binary' },
    responses: { 200: { description: 'The URL to send as profile.avatarUrl on confirm', schema: z.object({ avatarUrl: z.string() }) } }, errors: ['payload_too_large', 'rate_limited'] },
  { method: 'get', path: '/v1/avatars/{id}', tag: 'Mini-program', auth: 'none', summary: 'An uploaded avatar (the token\'s `picture`)',
    responses: { 200: image('The image') }, errors: ['not_found'] },

  // Tenant backends, with a secret key.
  { method: 'post', path: '/v1/tokens/verify', tag: 'Tokens', auth: 'secretKey', summary: 'Verify a login token and spend it (single use)',
    body: verifyTokenBody, responses: { 200: { description: 'The token is valid for this key\'s app and mode', schema: verifyTokenAnswer } }, errors: ['invalid_token', 'token_expired', 'already_used'] },
  { method: 'get', path: '/apps/{appId}/.well-known/openid-configuration', tag: 'Tokens', auth: 'none', summary: 'OpenID discovery of an app\'s issuer',
    responses: { 200: { description: 'The discovery document', schema: discoverySchema } }, errors: ['not_found'] },
  { method: 'get', path: '/apps/{appId}/.well-known/jwks.json', tag: 'Tokens', auth: 'none', summary: 'The app\'s public signing keys (JWKS)',
    responses: { 200: { description: 'Current and recently retired ES256 keys', schema: jwksSchema } }, errors: ['not_found'] },

  { method: 'get', path: '/v1/users', tag: 'Users', auth: 'secretKey', summary: 'The end users of the key\'s app and mode, newest first',
    query: pageQuery, responses: { 200: { description: 'A page of users', schema: endUserPage } } },
  { method: 'get', path: '/v1/users/{id}', tag: 'Users', auth: 'secretKey', summary: 'One end user',
    responses: { 200: { description: 'The user', schema: endUserSchema } }, errors: ['not_found'] },
  { method: 'delete', path: '/v1/users/{id}', tag: 'Users', auth: 'secretKey', summary: 'Erase an end user (PIPL Art. 47, GDPR Art. 17)',
    description: 'Deletes the profile and the openid mapping, and the avatars they uploaded; their logins stay as anonymous rows (counts survive) with '
      + 'the openid, IP, location and device cleared, and so do the webhook messages about them. Sends `user.deleted`. A later login of the same WeChat user makes a new user id.',
    responses: { 200: { description: 'Erased', schema: deletedUserSchema } }, errors: ['not_found'] },
  { method: 'get', path: '/v1/users/{id}/export', tag: 'Users', auth: 'secretKey', summary: 'Everything held about an end user (PIPL Art. 45, GDPR Art. 15/20)',
    responses: { 200: { description: 'The user, their logins, avatars and the webhook messages about them', schema: userExportSchema } }, errors: ['not_found'] },

  { method: 'post', path: '/v1/webhook_endpoints', tag: 'Webhooks', auth: 'secretKey', summary: 'Add an endpoint (the only answer with its secret, besides rotation)',
    body: endpointInput, responses: { 201: { description: 'The endpoint and its signing secret', schema: createdEndpointSchema } }, errors: ['forbidden'] },
  { method: 'get', path: '/v1/webhook_endpoints', tag: 'Webhooks', auth: 'secretKey', summary: 'The endpoints of the key\'s app and mode',
    responses: { 200: { description: 'Every endpoint', schema: list(endpointSchema) } } },
  { method: 'get', path: '/v1/webhook_endpoints/{id}', tag: 'Webhooks', auth: 'secretKey', summary: 'One endpoint',
    responses: { 200: { description: 'The endpoint', schema: endpointSchema } }, errors: ['not_found'] },
  { method: 'patch', path: '/v1/webhook_endpoints/{id}', tag: 'Webhooks', auth: 'secretKey', summary: 'Change or re-enable an endpoint',
    body: endpointPatch, responses: { 200: { description: 'The endpoint', schema: endpointSchema } }, errors: ['not_found'] },
  { method: 'delete', path: '/v1/webhook_endpoints/{id}', tag: 'Webhooks', auth: 'secretKey', summary: 'Remove an endpoint',
    responses: { 200: { description: 'Removed', schema: deletedSchema } }, errors: ['not_found'] },
  { method: 'post', path: '/v1/webhook_endpoints/{id}/rotate_secret', tag: 'Webhooks', auth: 'secretKey', summary: 'New secret; the old one keeps signing for 24 h',
    responses: { 200: { description: 'The new secret', schema: rotatedSecretSchema } }, errors: ['not_found'] },
  { method: 'post', path: '/v1/webhook_endpoints/{id}/test', tag: 'Webhooks', auth: 'secretKey', summary: 'Send a `webhook.test` event to this endpoint',
    responses: { 202: { description: 'Queued', schema: testEventAnswer } }, errors: ['not_found'] },
  { method: 'post', path: '/v1/webhook_endpoints/{id}/replay_failed', tag: 'Webhooks', auth: 'secretKey', summary: 'Send again every failed message since a time',
    body: replayFailedBody, responses: { 202: { description: 'Queued', schema: replayFailedAnswer } }, errors: ['not_found'] },
  { method: 'get', path: '/v1/webhook_messages', tag: 'Webhooks', auth: 'secretKey', summary: 'The delivery log, newest first',
    query: messagesQuery, responses: { 200: { description: 'A page of messages with their deliveries', schema: messagePage } } },
  { method: 'get', path: '/v1/webhook_messages/{id}/attempts', tag: 'Webhooks', auth: 'secretKey', summary: 'Every delivery attempt of a message',
    responses: { 200: { description: 'The attempts', schema: list(attemptSchema) } }, errors: ['not_found'] },
  { method: 'post', path: '/v1/webhook_messages/{id}/replay', tag: 'Webhooks', auth: 'secretKey', summary: 'Send a message again (to one endpoint, or all it went to)',
    body: replayBody, responses: { 202: { description: 'Queued', schema: replayAnswer } }, errors: ['not_found'] },

  { method: 'get', path: '/v1/usage', tag: 'Usage', auth: 'secretKey', summary: 'This month\'s live monthly active users against the plan',
    description: 'MAU: distinct end users with at least one live login in the calendar month (UTC). `limit` is null when unlimited (billing off, or Pro).',
    responses: { 200: { description: 'The month (YYYY-MM), its active users, the limit and the plan', schema: usageSchema } } },

  { method: 'get', path: '/v1/audit_events', tag: 'Audit', auth: 'secretKey', summary: 'Who changed what on the key\'s app, newest first',
    description: 'Console actions of the tenant\'s people and the operator\'s CLI commands on this app. Page on with `cursor` = the previous page\'s `next`.',
    query: auditEventsQuery, responses: { 200: { description: 'A page of events', schema: auditEventsPage } } },

  { method: 'post', path: '/v1/oidc_clients', tag: 'OpenID Connect', auth: 'secretKey', summary: 'Register an OIDC client of the key\'s app and mode',
    description: 'The app is an OpenID Provider at its issuer `{PUBLIC_URL}/apps/{appId}` (see its discovery document). Public clients (`none`) must use PKCE.',
    body: oidcClientInput, responses: { 201: { description: 'The client, with its secret (shown once) when confidential', schema: createdOidcClientSchema } } },
  { method: 'get', path: '/v1/oidc_clients', tag: 'OpenID Connect', auth: 'secretKey', summary: 'The OIDC clients of the key\'s app and mode',
    responses: { 200: { description: 'Every client', schema: list(oidcClientSchema) } } },
  { method: 'get', path: '/v1/oidc_clients/{id}', tag: 'OpenID Connect', auth: 'secretKey', summary: 'One OIDC client',
    responses: { 200: { description: 'The client', schema: oidcClientSchema } }, errors: ['not_found'] },
  { method: 'delete', path: '/v1/oidc_clients/{id}', tag: 'OpenID Connect', auth: 'secretKey', summary: 'Remove an OIDC client',
    responses: { 200: { description: 'Removed', schema: deletedOidcClientSchema } }, errors: ['not_found'] },

  { method: 'post', path: '/v1/test_helpers/sessions/{id}/scan', tag: 'Test helpers', auth: 'secretKey', summary: 'Play the phone\'s scan in the sandbox (test keys only)',
    description: 'Answers what /v1/mp/scan answers, with the ticket; then call /v1/mp/confirm or /v1/mp/cancel.',
    body: testScanBody, responses: { 200: { description: 'As /v1/mp/scan', schema: scanAnswerSchema } }, errors: ['live_mode_forbidden', 'session_not_found'] },

  { method: 'get', path: '/v1/openapi.json', tag: 'Reference', auth: 'none', summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1', schema: z.object({ openapi: z.string() }).loose() } } },
];

const SECURITY: Record<Exclude<Auth, 'none'>, Record<string, unknown>> = {
  secretKey: { type: 'http', scheme: 'bearer', description: 'A secret key, `sk_test_…` or `sk_live_…`: the app and mode every call is scoped to.' },
  sessionSecret: { type: 'http', scheme: 'bearer', description: 'The `secret` of the session frame, known only to the browser that opened it.' },
  publishableKey: { type: 'apiKey', in: 'query', name: 'key', description: 'A publishable key, `pk_test_…` or `pk_live_…`, from a page on an allowed origin.' },
};

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Json;
  return rest;
}

function parameters(op: Operation): Json[] {
  const params: Json[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (op.query) {
    const shape = jsonSchema(op.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(shape.properties ?? {})) {
      params.push({ name, in: 'query', required: shape.required?.includes(name) ?? false, schema });
    }
  }
  return params;
}

function operation(op: Operation): Json {
  const responses: Json = {};
  for (const [status, answer] of Object.entries(op.responses)) {
    const content = answer.schema ? { 'application/json': { schema: jsonSchema(answer.schema, 'output') } }
      : Object.fromEntries((answer.media ?? []).map((m) => [m, { schema: { type: 'string', contentMediaType: m } }]));
    responses[status] = { description: answer.description, content };
  }
  const codes = ['bad_request', ...(op.auth === 'secretKey' ? ['unauthorized', 'invalid_key'] : []), ...(op.errors ?? []), 'unavailable'];
  responses.default = {
    description: `An error: \`${codes.join('`, `')}\`; the status comes from the code`,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  const body = op.body ? { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } }
    : op.form ? { required: true, content: { 'multipart/form-data': { schema: {
      type: 'object', required: Object.keys(op.form),
      properties: Object.fromEntries(Object.entries(op.form).map(([k, t]) => [k, t === 'binary' ? { type: 'string', contentMediaType: 'application/octet-stream' } : { type: 'string' }])),
    } } } } : undefined;
  return {
    operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    security: op.auth === 'none' ? [] : [{ [op.auth]: [] }],
    parameters: parameters(op),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

/** The whole document; `serverUrl` is the PUBLIC_URL the document is served from. */
export function openApiDocument(serverUrl: string, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  const webhooks: Json = {};
  const event = (type: string, data: z.ZodType, summary: string) => ({
    post: {
      summary,
      requestBody: { content: { 'application/json': { schema: jsonSchema(z.object({ type: z.literal(type), timestamp: z.string(), data }), 'output') } } },
      responses: { '2XX': { description: 'Received; anything else is retried' } },
    },
  });
  for (const type of EVENT_TYPES) {
    webhooks[type] = event(type, eventDataSchemas[type], `The ${type} event (Standard Webhooks: headers webhook-id, webhook-timestamp, webhook-signature)`);
  }
  webhooks[TEST_EVENT_TYPE] = event(TEST_EVENT_TYPE, testEventDataSchema, 'Sent only by "Send test event", to one endpoint');
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'wechat-scan-login',
      version,
      description: 'Log in with WeChat by scanning a mini-program code. Errors are `{error:{code, message, requestId}}` with the status from the code.',
    },
    servers: [{ url: serverUrl }],
    tags: [...new Set(OPERATIONS.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    webhooks,
    components: {
      schemas: { Error: jsonSchema(errorBodySchema, 'output') },
      securitySchemes: SECURITY,
    },
  };
}
