import type { Kysely } from 'kysely'

/**
 * The hash of the refresh token a session held before its last rotation. Reuse detection
 * revokes a session only when that rotated-out token comes back, so someone who merely knows
 * a session id (it is in every access token's `sid`) cannot log its user out by guessing.
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('previous_refresh_token_hash', 'text').execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('previous_refresh_token_hash').execute()
}
