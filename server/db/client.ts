import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { UnavailableError } from '../lib/errors';
import * as schema from './schema/index';

export type Schema = typeof schema;
/** Either driver: postgres-js against a real server, or embedded PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/** The rows of `db.execute`: postgres-js answers an array, PGlite an object with `rows`. */
export function rowsOf(result: unknown): unknown[] {
  if (Array.isArray(result)) return result;
  const rows = (result as { rows?: unknown }).rows;
  return Array.isArray(rows) ? rows : [];
}

/**
 * The failures of postgres-js (and of drizzle wrapping it, as `cause`) that mean Postgres can't
 * be reached or dropped the connection, by their codes: the driver's own connection codes, and
 * SQLSTATE classes 08 (connection exception) and 57P (the server shutting down or terminating
 * the backend, e.g. pg_terminate_backend).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof UnavailableError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    // 57014: statement_timeout cancelled it, a database too slow to answer in time.
    if (DRIVER_OUTAGE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300' || code === '57014') return true;
  }
  return false;
}

const DRIVER_OUTAGE_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /**
   * A hot statement whose text never changes (only its parameters do), run as a server-side
   * prepared statement: Postgres parses and plans it once per connection instead of on every
   * call. drizzle prepares only named queries, and the login's one-statement write is raw SQL.
   * Answers the rows.
   */
  executePrepared(query: SQL): Promise<unknown[]>;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));
/** Any constant works; it only has to be the same for every instance of this product. */
const MIGRATION_LOCK_ID = 0x77736c; // "wsl"

export async function openDatabase(opts: { url?: string; dataDir: string; max?: number; statementTimeoutMs?: number }): Promise<Database> {
  if (opts.url) return openPostgres(opts.url, opts.max ?? 10, opts.statementTimeoutMs ?? 0);
  return openPglite(opts.dataDir);
}

async function openPostgres(url: string, max: number, statementTimeoutMs: number): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  // Every query bounded on the server's side; a Postgres that doesn't answer at all is the request deadline's job.
  const client = postgres(url, { max, onnotice: () => {}, connect_timeout: 5, connection: { statement_timeout: statementTimeoutMs } });
  const db = drizzle(client, { schema });
  const dialect = new PgDialect();
  return {
    db: db as unknown as Db,
    kind: 'postgres',
    async executePrepared(query) {
      const built = dialect.sqlToQuery(query);
      // postgres-js keeps the statement per connection, keyed by its text.
      return client.unsafe(built.sql, built.params as never[], { prepare: true });
    },
    async migrate() {
      // A session-level advisory lock on a reserved connection: instances starting together
      // queue here, and the later ones find nothing left to apply.
      // A client of its own, without the statement timeout: a migration may rightly take long.
      // Its one connection holds the session-level advisory lock until end() closes it.
      const own = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      try {
        await own`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
        await migrate(drizzle(own, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await own.end({ timeout: 5 });
      }
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    // In-process: no round trip to save, and PGlite caches nothing across calls anyway.
    executePrepared: async (query) => rowsOf(await db.execute(query)),
    // PGlite is one process's private database: nothing else can migrate it concurrently.
    migrate: () => migrate(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.close();
    },
  };
}
