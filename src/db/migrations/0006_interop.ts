import { type Kysely, PostgresAdapter } from 'kysely'

/**
 * - `sessions.client_id`: the OAuth client a session was opened for (RFC 9068 `client_id`), so a
 *   refreshed access token names the same client as the first one. Null on sessions opened before
 *   this migration: they carry the configured default client id.
 * - `signing_keys.activates_at`: a key is published in the JWKS from `created_at` but signs only
 *   from `activates_at`, so verifiers that cache the JWKS have fetched it before any token needs
 *   it. Null on older keys: they were active from `created_at`.
 */
export async function up (db: Kysely<any>): Promise<void> {
  const ts = db.getExecutor().adapter instanceof PostgresAdapter ? 'timestamptz' : 'text'
  await db.schema.alterTable('sessions').addColumn('client_id', 'text').execute()
  await db.schema.alterTable('signing_keys').addColumn('activates_at', ts).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('signing_keys').dropColumn('activates_at').execute()
  await db.schema.alterTable('sessions').dropColumn('client_id').execute()
}
