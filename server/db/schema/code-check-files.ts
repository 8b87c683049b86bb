import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { apps } from './apps';

/**
 * WeChat's check file for an app's link-style rule ("扫普通链接二维码打开小程序"): WeChat fetches
 * it from {PUBLIC_URL}/q/{appId}/{fileName} before it accepts the rule. One per app; a new
 * upload replaces the old one.
 */
export const codeCheckFiles = pgTable('code_check_files', {
  appId: text('app_id').primaryKey().references(() => apps.id, { onDelete: 'cascade' }),
  tenantId: text('tenant_id').notNull(),
  fileName: text('file_name').notNull(),
  content: text('content').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
