/** The audit log's API shape (`GET /v1/audit_events`), server/features/audit ↔ tenant backends. */
import { z } from 'zod';

export const auditEventsQuery = z.object({
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const apiAuditEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.object({ type: z.enum(['account', 'api_key', 'operator', 'system']), id: z.string().optional(), email: z.string().optional() }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }),
  ip: z.string().optional(),
});
export type ApiAuditEvent = z.infer<typeof apiAuditEventSchema>;

export const auditEventsPage = z.object({ data: z.array(apiAuditEventSchema), next: z.string().optional() });
