import { type Kysely, PostgresAdapter } from 'kysely'

/**
 * Two-step verification (TOTP, recovery codes, the second step of a sign-in), passkeys, and
 * the authentication methods of each session (RFC 8176 `amr`).
 */
export async function up (db: Kysely<any>): Promise<void> {
  const ts = db.getExecutor().adapter instanceof PostgresAdapter ? 'timestamptz' : 'text'

  // A copy of "has a confirmed TOTP factor" on the user row: the user object and the admin
  // list filter read it without a join. Kept in step by the MFA service in the same
  // transaction as the factor itself.
  await db.schema.alterTable('users').addColumn('mfa_enabled', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  // Space-separated RFC 8176 values; null for sessions opened before this migration ("pwd").
  await db.schema.alterTable('sessions').addColumn('amr', 'text').execute()

  await db.schema.createTable('mfa_totp')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    // AES-256-GCM ciphertext (`v1.…`) when DATA_ENCRYPTION_KEY is set, else `plain.<base32>`.
    .addColumn('secret', 'text', (c) => c.notNull())
    // Null while the set-up waits for its first code.
    .addColumn('confirmed_at', ts)
    // The last accepted time step: a code is accepted only for a later step (no replay).
    .addColumn('last_used_step', 'bigint')
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute()

  await db.schema.createTable('mfa_recovery_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // SHA-256 over a random per-code salt and the code (ASVS 2.6.2); the code only in the answer.
    .addColumn('salt', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('used_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('mfa_recovery_codes_user_idx').on('mfa_recovery_codes').column('user_id').execute()

  // The mfa_token of a sign-in waiting for its second step; only its SHA-256 is stored.
  await db.schema.createTable('mfa_challenges')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // Set while a verification holds the token, and for good once it succeeded.
    .addColumn('used_at', ts)
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('mfa_challenges_expires_idx').on('mfa_challenges').column('expires_at').execute()

  await db.schema.createTable('passkeys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // The WebAuthn credential id (base64url), as the authenticator names it.
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    // The COSE public key, base64url.
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'text')
    .addColumn('device_type', 'text', (c) => c.notNull())
    .addColumn('backed_up', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('last_used_at', ts)
    .execute()
  await db.schema.createIndex('passkeys_user_idx').on('passkeys').column('user_id').execute()

  // WebAuthn challenges, in the database so that every instance can take them, once.
  await db.schema.createTable('webauthn_challenges')
    .addColumn('challenge_hash', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('created_at', ts, (c) => c.notNull())
    .addColumn('expires_at', ts, (c) => c.notNull())
    .execute()
  await db.schema.createIndex('webauthn_challenges_expires_idx').on('webauthn_challenges').column('expires_at').execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute()
  await db.schema.dropTable('passkeys').execute()
  await db.schema.dropTable('mfa_challenges').execute()
  await db.schema.dropTable('mfa_recovery_codes').execute()
  await db.schema.dropTable('mfa_totp').execute()
  await db.schema.alterTable('sessions').dropColumn('amr').execute()
  await db.schema.alterTable('users').dropColumn('mfa_enabled').execute()
}
