import { type Kysely, PostgresAdapter } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  const ts = db.getExecutor().adapter instanceof PostgresAdapter ? 'timestamptz' : 'text'

  // The transactional outbox: a row is written in the same transaction as the action that
  // causes the mail, and a background sender delivers it.
  await db.schema.createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    // Rendered mail; null until rendered (mails rendered at delivery time) and again once
    // delivered over SMTP, since a body may carry a live one-time link.
    .addColumn('subject', 'text')
    .addColumn('text_body', 'text')
    .addColumn('html_body', 'text')
    // pending → sent | logged (no SMTP configured) | skipped (nothing to send) | failed (gave up)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ts, (c) => c.notNull())
    // A claim is a lease: a sender that dies mid-delivery releases its rows when it expires.
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', ts)
    .addColumn('last_error', 'text')
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('sent_at', ts)
    .execute()
  await db.schema.createIndex('mail_outbox_due_idx').on('mail_outbox').columns(['status', 'next_attempt_at']).execute()

  // Reset and verification tokens: only the SHA-256 of the token is stored.
  await db.schema.createTable('one_time_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    // The address the token was sent to: a verification only counts for that address.
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .addColumn('used_at', ts)
    .execute()
  await db.schema.createIndex('one_time_tokens_user_idx').on('one_time_tokens').columns(['user_id', 'purpose']).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('one_time_tokens').execute()
  await db.schema.dropTable('mail_outbox').execute()
}
