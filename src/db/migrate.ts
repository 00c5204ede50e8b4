import { type Kysely, type Migration, type MigrationResult, Migrator, PostgresAdapter, sql } from 'kysely'
import * as m0001 from './migrations/0001_core.js'
import * as m0002 from './migrations/0002_audit_events.js'
import * as m0004 from './migrations/0004_user_search.js'

/**
 * Migrations are imported, not read from a folder, so the built service carries them and
 * `npm start` needs no source tree. Add new ones here in order.
 */
export const migrations: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_audit_events': m0002,
  '0004_user_search': m0004
}

async function migrator (db: Kysely<any>): Promise<Migrator> {
  // Kysely looks for its bookkeeping tables in every schema unless told which one: with
  // several schemas in one database (one per test file, or per tenant) it would find another
  // schema's. Pin it to the connection's current schema.
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

/**
 * Kysely's migrator lists the tables of every schema first; a schema dropped meanwhile (another
 * test file's, or a tenant's) fails that listing with 3F000 invalid_schema_name. Try again.
 */
async function retryingSchemaRace (run: () => Promise<MigrationResult[]>): Promise<MigrationResult[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (attempt >= 5 || (error as { code?: unknown }).code !== '3F000') throw error
    }
  }
}

/** Brings the schema to the latest version; safe to call from several instances at once (Kysely locks). */
export async function migrateToLatest (db: Kysely<any>): Promise<MigrationResult[]> {
  return retryingSchemaRace(async () => unwrap(await (await migrator(db)).migrateToLatest()))
}

export async function migrateDown (db: Kysely<any>): Promise<MigrationResult[]> {
  return unwrap(await (await migrator(db)).migrateDown())
}
