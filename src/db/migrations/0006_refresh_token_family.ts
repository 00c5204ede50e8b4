import { type Kysely, PostgresAdapter, sql } from 'kysely'

/**
 * Every refresh token a session has rotated out, as SHA-256 of its secret part, so that any
 * of them coming back (not only the last one) is recognised as reuse and revokes the session:
 * the refresh token family of RFC 6819 §5.2.2.3 / OAuth 2.0 Security BCP §4.14.2. The rows go
 * with their session (foreign key cascade), which housekeeping deletes once it is dead.
 *
 * Replaces `sessions.previous_refresh_token_hash` (0005), which remembered only the last one:
 * its values move here.
 */
export async function up (db: Kysely<any>): Promise<void> {
  const ts = db.getExecutor().adapter instanceof PostgresAdapter ? 'timestamptz' : 'text'
  await db.schema.createTable('rotated_refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('rotated_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('rotated_refresh_tokens_session_idx').on('rotated_refresh_tokens').column('session_id').execute()
  await sql`insert into rotated_refresh_tokens (token_hash, session_id, rotated_at)
    select previous_refresh_token_hash, id, last_used_at from sessions where previous_refresh_token_hash is not null`.execute(db)
  await db.schema.alterTable('sessions').dropColumn('previous_refresh_token_hash').execute()
  // Housekeeping deletes dead sessions by these times.
  await db.schema.createIndex('sessions_expires_at_idx').on('sessions').column('expires_at').execute()
  await db.schema.createIndex('sessions_revoked_at_idx').on('sessions').column('revoked_at').execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sessions_revoked_at_idx').execute()
  await db.schema.dropIndex('sessions_expires_at_idx').execute()
  await db.schema.alterTable('sessions').addColumn('previous_refresh_token_hash', 'text').execute()
  // The newest rotated-out hash of each session goes back into the single column.
  await sql`update sessions set previous_refresh_token_hash = (
    select r.token_hash from rotated_refresh_tokens r where r.session_id = sessions.id
    order by r.rotated_at desc limit 1)`.execute(db)
  await db.schema.dropTable('rotated_refresh_tokens').execute()
}
