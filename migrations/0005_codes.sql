CREATE TABLE "code_check_files" (
	"app_id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"file_name" text NOT NULL,
	"content" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "apps" ADD COLUMN "code_style" text DEFAULT 'wxacode' NOT NULL;--> statement-breakpoint
ALTER TABLE "code_check_files" ADD CONSTRAINT "code_check_files_app_id_apps_id_fk" FOREIGN KEY ("app_id") REFERENCES "public"."apps"("id") ON DELETE cascade ON UPDATE no action;