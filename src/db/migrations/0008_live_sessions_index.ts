import { type Kysely, sql } from 'kysely'

/**
 * The live sessions of a user, newest first, in the index itself: every sign-in applies
 * MAX_SESSIONS_PER_USER by walking them (`liveSessionsBeyond`). Through the general
 * `sessions_user_id_idx` the walk also passed every revoked session the user still has (until
 * housekeeping deletes them) and read each row for its expiry; this partial, covering index
 * holds only the live ones with what the query needs. SQLite and PostgreSQL both use it for
 * a query whose WHERE says `revoked_at is null`.
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('sessions_user_live_idx').on('sessions')
    .columns(['user_id', 'created_at', 'id', 'expires_at'])
    .where(sql.ref('revoked_at'), 'is', null)
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_user_live_idx').execute()
}
