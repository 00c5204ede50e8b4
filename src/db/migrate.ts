import { type Kysely, type Migration, type MigrationResult, Migrator, PostgresAdapter, sql } from 'kysely'
import * as m0001 from './migrations/0001_core.js'
import * as m0002 from './migrations/0002_audit_events.js'

/**
 * Migrations are imported, not read from a folder, so the built service carries them and
 * `npm start` needs no source tree. Add new ones here in order.
 */
export const migrations: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_audit_events': m0002
}

async function migrator (db: Kysely<any>): Promise<Migrator> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: on a
  // PostgreSQL database holding several schemas (one per tenant or per test) it would find
  // another schema's and never create its own. Pin it to the schema this connection uses.
  let migrationTableSchema: string | undefined
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
    migrationTableSchema = rows[0]?.schema
  }
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(migrationTableSchema ? { migrationTableSchema } : {}) })
}

function unwrap (results: { error?: unknown, results?: MigrationResult[] }): MigrationResult[] {
  if (results.error) throw results.error instanceof Error ? results.error : new Error(String(results.error))
  return results.results ?? []
}

/** Brings the schema to the latest version; safe to call from several instances at once (Kysely locks). */
export async function migrateToLatest (db: Kysely<any>): Promise<MigrationResult[]> {
  return unwrap(await (await migrator(db)).migrateToLatest())
}

export async function migrateDown (db: Kysely<any>): Promise<MigrationResult[]> {
  return unwrap(await (await migrator(db)).migrateDown())
}
