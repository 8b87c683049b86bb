import { sql, type SQL } from 'drizzle-orm';
import type { KeyMode } from '../../lib/ids';

export interface LoginScope {
  tenantId: string;
  appId: string;
  mode: KeyMode;
}

/**
 * CTEs for the login's own statement (sessions/login-record.ts), after its CTEs `u` (the upserted
 * end user, column `id`) and `e` (the login event, empty when this session was recorded
 * before, so a repeated attempt writes nothing here either): `mau` records the user as active this month (a no-op for test mode
 * and for a user already counted), and with billing on `meter` adds the outbox row that the
 * meter sender turns into one Stripe meter event. No extra round trip, no Stripe call.
 *
 * The statement's text depends only on `billingOn` (fixed per process), so it stays one
 * prepared statement; the mode is a parameter.
 */
export function activityCtes(billingOn: boolean) {
  return (scope: LoginScope, at: Date): SQL => {
    const time = at.toISOString();
    const mau = sql`mau as (
      insert into monthly_active_users (tenant_id, month, user_id, app_id, day, created_at)
      select ${scope.tenantId}::text, date_trunc('month', ${time}::timestamptz at time zone 'UTC')::date, u.id, ${scope.appId}::text,
        (${time}::timestamptz at time zone 'UTC')::date, ${time}::timestamptz
      from u join e on true where ${scope.mode}::text = 'live'
      on conflict do nothing
      returning user_id, month
    )`;
    if (!billingOn) return mau;
    return sql`${mau}, meter as (
      insert into billing_meter_outbox (id, tenant_id, month, created_at)
      select 'mau_' || ${scope.tenantId}::text || '_' || mau.user_id || '_' || to_char(mau.month, 'YYYYMM'), ${scope.tenantId}::text, mau.month, ${time}::timestamptz
      from mau
      on conflict do nothing
    )`;
  };
}
