import { type Kysely, type Migration, type MigrationResult, Migrator, PostgresAdapter, sql } from 'kysely'
import * as m0001 from './migrations/0001_core.js'
import * as m0002 from './migrations/0002_audit_events.js'
import * as m0003 from './migrations/0003_mail.js'
import * as m0004 from './migrations/0004_user_search.js'
import * as m0005 from './migrations/0005_security.js'
import * as m0006 from './migrations/0006_interop.js'
import * as m0006Family from './migrations/0006_refresh_token_family.js'
import * as m0007 from './migrations/0007_mfa.js'
import * as m0008 from './migrations/0008_live_sessions_index.js'
import * as m0009 from './migrations/0009_mfa_challenge_client.js'

/**
 * Migrations are imported, not read from a folder, so the built service carries them and
 * `npm start` needs no source tree. Add new ones here in order.
 */
export const migrations: Record<string, Migration> = {
  '0001_core': m0001,
  '0002_audit_events': m0002,
  '0003_mail': m0003,
  '0004_user_search': m0004,
  '0005_security': m0005,
  '0006_interop': m0006,
  '0006_refresh_token_family': m0006Family,
  '0007_mfa': m0007,
  '0008_live_sessions_index': m0008,
  '0009_mfa_challenge_client': m0009
}

async function migrator (db: Kysely<any>): Promise<Migrator> {
  // Unless told a schema, Kysely takes a migration table found in *any* PostgreSQL schema for
  // its own: name the one this connection works in, so databases sharing a server stay apart.
  const migrationTableSchema = db.getExecutor().adapter instanceof PostgresAdapter
    ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
    : undefined
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
