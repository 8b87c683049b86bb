/** Webhooks: event types and payloads (Standard Webhooks bodies), endpoints, the delivery log. */
import { z } from 'zod';
import { pageOf, timestamp } from './common.js';
import { EVENT_TYPES, TEST_EVENT_TYPE } from './constants.js';

export const eventTypeSchema = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof eventTypeSchema>;
export type MessageType = EventType | typeof TEST_EVENT_TYPE;

/** Optional context the session may not know; always present on the wire, null when unknown. */
const maybe = z.string().nullable().default(null);

/** What each event's `data` holds; validated when recorded so a caller's slip can't ship garbage. */
export const eventDataSchemas = {
  'login.succeeded': z.object({
    userId: z.string(),
    openid: z.string(),
    unionid: z.string().optional(),
    nickname: z.string().optional(),
    avatarUrl: z.string().optional(),
    /** Only for apps whose phoneNumber setting asks, when the visitor shared it: E.164, verified by WeChat. */
    phoneNumber: z.string().optional(),
    phoneNumberVerified: z.boolean().optional(),
    origin: maybe,
    browser: maybe,
    os: maybe,
    ip: maybe,
    sessionId: z.string(),
    time: timestamp,
  }),
  'login.cancelled': z.object({ sessionId: z.string(), origin: maybe, time: timestamp }),
  'user.created': z.object({ userId: z.string(), openid: z.string(), unionid: z.string().optional(), time: timestamp }),
  /** The user was erased (DELETE /v1/users/:id or the console): erase what you keep about them too. */
  'user.deleted': z.object({ userId: z.string(), time: timestamp }),
  // Sent by features/billing to the live endpoints of each of the tenant's apps, once per threshold (80, 100 %) per month.
  'billing.quota_warning': z.object({ month: z.string(), activeUsers: z.number().int(), limit: z.number().int(), threshold: z.number().int(), plan: z.string() }),
} satisfies Record<EventType, z.ZodType>;
export const testEventDataSchema = z.object({ endpointId: z.string(), message: z.string() });

export type EventData<T extends EventType> = z.output<(typeof eventDataSchemas)[T]>;
export type LoginSucceeded = EventData<'login.succeeded'>;
export type LoginCancelled = EventData<'login.cancelled'>;
export type UserCreated = EventData<'user.created'>;
export type UserDeleted = EventData<'user.deleted'>;
export type QuotaWarning = EventData<'billing.quota_warning'>;

/** What every webhook body looks like; `data` depends on `type`. */
export type WebhookEvent =
  | { [T in EventType]: { type: T; timestamp: string; data: EventData<T> } }[EventType]
  | { type: typeof TEST_EVENT_TYPE; timestamp: string; data: z.output<typeof testEventDataSchema> };

export const ENDPOINT_ID = /^ep_[A-Za-z0-9]{1,64}$/;
export const MESSAGE_ID = /^msg_[A-Za-z0-9]{1,64}$/;

export const endpointInput = z.object({
  url: z.string().min(1).max(2048),
  events: z.array(eventTypeSchema).max(10).optional(),
  description: z.string().max(500).nullable().optional(),
});

export const endpointPatch = z.object({
  url: z.string().min(1).max(2048).optional(),
  events: z.array(eventTypeSchema).max(10).optional(),
  description: z.string().max(500).nullable().optional(),
  enabled: z.boolean().optional(),
});

const isoDate = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 date').transform((v) => new Date(v));

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export const deliveryStatusSchema = z.enum(DELIVERY_STATUSES);
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

export const messagesQuery = z.object({
  cursor: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  type: z.string().max(64).optional(),
  status: deliveryStatusSchema.optional(),
  endpoint_id: z.string().regex(ENDPOINT_ID).optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
});

export const replayBody = z.object({ endpointId: z.string().regex(ENDPOINT_ID).optional() });
export const replayFailedBody = z.object({ since: isoDate });

/**
 * The endpoint's circuit breaker. `closed`: deliveries go out. `open`: the endpoint failed
 * too often in a row and nothing is sent until `pausedUntil`; its messages keep their place
 * in the retry schedule (a pause spends no attempt). `half_open`: one delivery is probing the
 * endpoint; success closes the breaker, failure opens it again for twice as long.
 */
export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
export const circuitSchema = z.object({
  state: z.enum(CIRCUIT_STATES),
  pausedUntil: timestamp.nullable(),
  consecutiveFailures: z.number().int(),
});
export type Circuit = z.infer<typeof circuitSchema>;

export const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  failingSince: timestamp.nullable(),
  circuit: circuitSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Endpoint = z.infer<typeof endpointSchema>;
/** The only answers that carry the signing secret: creation and rotation. */
export const createdEndpointSchema = endpointSchema.extend({ secret: z.string() });
export const rotatedSecretSchema = z.object({ id: z.string(), secret: z.string(), previousSecretExpiresAt: timestamp });
export const deletedSchema = z.object({ id: z.string(), deleted: z.literal(true) });

/**
 * What a delivery is doing, for people: `pending` (not tried yet), `delivered`, `retrying`
 * (failed, next try at `nextAttemptAt`), `paused` (its endpoint's breaker is open; next try
 * at `nextAttemptAt`, not before `pausedUntil`) or `failed` (the schedule is spent, or the
 * endpoint answered 410 or was disabled). `status` is the coarser stored value. A pending or
 * retrying delivery with `nextAttemptAt` null is queued behind others to the same endpoint
 * and goes as soon as it has room.
 */
export const DELIVERY_STATES = ['pending', 'delivered', 'retrying', 'paused', 'failed'] as const;
export const deliveryStateSchema = z.enum(DELIVERY_STATES);
export type DeliveryState = z.infer<typeof deliveryStateSchema>;

export const deliverySchema = z.object({
  id: z.string(),
  endpointId: z.string(),
  status: deliveryStatusSchema,
  state: deliveryStateSchema,
  attempts: z.number().int(),
  nextAttemptAt: timestamp.nullable(),
  lastAttemptAt: timestamp.nullable(),
  pausedUntil: timestamp.nullable(),
  updatedAt: timestamp,
});
export type Delivery = z.infer<typeof deliverySchema>;

/**
 * The console's live delivery log (`GET …/webhooks/stream`, server-sent events): `delivery`
 * whenever a delivery changes state or is attempted, `endpoint` whenever an endpoint's
 * breaker opens, half-opens or closes (or the endpoint is edited).
 */
export const deliveryEventSchema = deliverySchema.extend({ messageId: z.string(), type: z.string() });
export type DeliveryEvent = z.infer<typeof deliveryEventSchema>;

export const messageSchema = z.object({
  id: z.string(),
  type: z.string(),
  timestamp: timestamp,
  payload: z.record(z.string(), z.unknown()),
  createdAt: timestamp,
  deliveries: z.array(deliverySchema),
});
export type Message = z.infer<typeof messageSchema>;
export const messagePage = pageOf(messageSchema);

export const attemptSchema = z.object({
  id: z.string(),
  deliveryId: z.string(),
  endpointId: z.string(),
  attempt: z.number().int(),
  statusCode: z.number().int().nullable(),
  durationMs: z.number().int(),
  responseBody: z.string().nullable(),
  error: z.string().nullable(),
  createdAt: timestamp,
});
export type Attempt = z.infer<typeof attemptSchema>;

export const testEventAnswer = z.object({ messageId: z.string() });
export const replayAnswer = z.object({ messageId: z.string(), deliveries: z.number().int() });
export const replayFailedAnswer = z.object({ endpointId: z.string(), deliveries: z.number().int() });
