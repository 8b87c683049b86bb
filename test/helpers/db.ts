import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../server/db/client';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh database per test file, migrated, dropped on dispose. Files run in parallel
 * without seeing each other's rows.
 */
export async function createTestDatabase(label = 't', opts: { migrate?: boolean } = {}): Promise<{ url: string; database: Database; drop(): Promise<void> }> {
  const name = `wsl_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const database = await openDatabase({ url, dataDir: '.data/unused', max: 5 });
  if (opts.migrate !== false) await database.migrate();
  return {
    url,
    database,
    async drop() {
      await database.close().catch(() => {});
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
