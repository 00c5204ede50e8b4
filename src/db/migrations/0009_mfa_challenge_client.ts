import type { Kysely } from 'kysely'

/**
 * The OAuth client a sign-in waiting for its second step was begun by (`client_id` at
 * `/token`), so the session `/mfa/verify` opens is that client's, as it would have been
 * without two-step verification. Null: the default client (and every challenge from before).
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mfa_challenges').addColumn('client_id', 'text').execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('mfa_challenges').dropColumn('client_id').execute()
}
