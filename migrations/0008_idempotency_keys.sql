CREATE TABLE "idempotency_keys" (
	"tenant_id" text NOT NULL,
	"app_id" text NOT NULL,
	"mode" text NOT NULL,
	"route" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer,
	"response_enc" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_app_id_mode_route_key_pk" PRIMARY KEY("app_id","mode","route","key")
);
--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");