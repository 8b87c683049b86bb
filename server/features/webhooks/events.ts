import type { EventType, MessageType } from '../../../contract/index.js';
import type { KeyMode } from '../../lib/ids';

export { EVENT_TYPES, TEST_EVENT_TYPE, eventDataSchemas, eventTypeSchema } from '../../../contract/index.js';
export type { EventData, EventType, MessageType } from '../../../contract/index.js';

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
