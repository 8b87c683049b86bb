CREATE TABLE "end_user_phones" (
	"app_id" text NOT NULL,
	"mode" text NOT NULL,
	"openid" text NOT NULL,
	"tenant_id" text NOT NULL,
	"phone_number_enc" text NOT NULL,
	"verified_at" timestamp with time zone NOT NULL,
	CONSTRAINT "end_user_phones_app_id_mode_openid_pk" PRIMARY KEY("app_id","mode","openid")
);
--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "phone_number" text DEFAULT 'off' NOT NULL;--> statement-breakpoint
ALTER TABLE "end_user_phones" ADD CONSTRAINT "end_user_phones_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "end_user_phones" ADD CONSTRAINT "end_user_phones_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "end_user_phones_tenant_idx" ON "end_user_phones" USING btree ("tenant_id");