DROP INDEX "webhook_messages_fanout_idx";--> statement-breakpoint
CREATE INDEX "webhook_messages_created_idx" ON "webhook_messages" USING btree ("created_at");