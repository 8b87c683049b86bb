import { z } from 'zod';
import type { KeyMode } from '../../lib/ids';

/** The event types a tenant can subscribe to (the contract in DESIGN §4). */
export const EVENT_TYPES = ['login.succeeded', 'login.cancelled', 'user.created', 'billing.quota_warning'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** Sent only by "send test event", to one endpoint, whatever it subscribes to. */
export const TEST_EVENT_TYPE = 'webhook.test';
export type MessageType = EventType | typeof TEST_EVENT_TYPE;

export const eventTypeSchema = z.enum(EVENT_TYPES);

const iso = z.string();
/** Optional context the session may not know; always present on the wire, null when unknown. */
const maybe = z.string().nullish().transform((v) => v ?? null);

/** What each event's `data` holds; validated when recorded so a caller's slip can't ship garbage. */
export const eventDataSchemas = {
  'login.succeeded': z.object({
    userId: z.string(),
    openid: z.string(),
    unionid: z.string().optional(),
    nickname: z.string().optional(),
    avatarUrl: z.string().optional(),
    origin: maybe,
    browser: maybe,
    os: maybe,
    ip: maybe,
    sessionId: z.string(),
    time: iso,
  }),
  'login.cancelled': z.object({ sessionId: z.string(), origin: maybe, time: iso }),
  'user.created': z.object({ userId: z.string(), openid: z.string(), unionid: z.string().optional(), time: iso }),
  // Sent by features/billing to the live endpoints of each of the tenant's apps, once per threshold per month.
  'billing.quota_warning': z.object({ month: z.string(), activeUsers: z.number().int(), limit: z.number().int(), threshold: z.number().int(), plan: z.string() }),
} satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

export interface OutboxMessage {
  tenantId: string;
  appId: string;
  mode: KeyMode;
  type: EventType;
  data: Record<string, unknown>;
}

/** The body sent on the wire; stored as is, so every attempt sends the same bytes' meaning. */
export interface Envelope {
  type: MessageType;
  timestamp: string;
  data: Record<string, unknown>;
}
