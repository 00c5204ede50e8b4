import type { Db } from '../database.js'
import { columnsOf, type StatementPreparer } from '../db/prepared-statement.js'
import type { PasskeyRow, WebauthnChallengePurpose } from './passkeys.table.js'

// Named, never `*`: see StatementPreparer.compile.
const PASSKEY_COLUMNS = columnsOf<PasskeyRow>()(['id', 'user_id', 'credential_id', 'public_key', 'counter', 'transports', 'device_type', 'backed_up', 'name', 'created_at', 'last_used_at'])

/**
 * The statements of a passkey sign-in (and of taking any challenge), built and compiled once
 * per database: no query building per sign-in.
 */
export function passkeyStatements (statements: StatementPreparer) {
  type Take = { challengeHash: string, purpose: WebauthnChallengePurpose, userId: string }
  // Two forms: a sign-in's challenge belongs to no user (`is null`), a registration's to one.
  const takeUnowned = statements.compile<Omit<Take, 'userId'>, { expires_at: string | Date }>('authd_take_webauthn_challenge',
    (db, slot) => db.deleteFrom('webauthn_challenges')
      .where('challenge_hash', '=', slot('challengeHash')).where('purpose', '=', slot('purpose')).where('user_id', 'is', null)
      .returning(['expires_at']))
  const takeOwned = statements.compile<Take, { expires_at: string | Date }>('authd_take_webauthn_challenge_of_user',
    (db, slot) => db.deleteFrom('webauthn_challenges')
      .where('challenge_hash', '=', slot('challengeHash')).where('purpose', '=', slot('purpose')).where('user_id', '=', slot('userId'))
      .returning(['expires_at']))
  const byCredentialId = statements.compile<{ credentialId: string }, PasskeyRow>('authd_passkey_by_credential_id',
    (db, slot) => db.selectFrom('passkeys').select(PASSKEY_COLUMNS).where('credential_id', '=', slot('credentialId')))
  const advance = statements.compile<{ id: string, expected: number, next: number, now: string }, { id: string }>('authd_advance_passkey_counter',
    (db, slot) => db.updateTable('passkeys').set({ counter: slot('next'), last_used_at: slot('now') })
      .where('id', '=', slot('id')).where('counter', '=', slot('expected'))
      .returning('id'))
  return {
    /**
     * Takes a challenge, once: the delete is the check, so of concurrent requests with the same
     * challenge exactly one gets it (on every instance: it lives in the database). True only for
     * a live challenge of this purpose (and user, for a registration).
     */
    async takeWebauthnChallenge (args: { challengeHash: string, purpose: WebauthnChallengePurpose, userId: string | null, now: string }): Promise<boolean> {
      const { challengeHash, purpose, userId } = args
      const [taken] = userId === null ? await takeUnowned({ challengeHash, purpose }) : await takeOwned({ challengeHash, purpose, userId })
      return taken !== undefined && new Date(taken.expires_at).getTime() > new Date(args.now).getTime()
    },

    async findPasskeyByCredentialId (credentialId: string): Promise<PasskeyRow | undefined> {
      return (await byCredentialId({ credentialId }))[0]
    },

    /**
     * Stores the counter of a verified assertion, only if the stored one is still the one the
     * verification compared against: two concurrent assertions cannot both move it.
     */
    async advancePasskeyCounter (trx: Db, id: string, expected: number, next: number, now: string): Promise<boolean> {
      return (await advance({ id, expected, next, now }, trx)).length === 1
    }
  }
}

export async function insertWebauthnChallenge (db: Db, row: { challengeHash: string, purpose: WebauthnChallengePurpose, userId: string | null, now: string, expiresAt: string }): Promise<void> {
  await db.insertInto('webauthn_challenges').values({
    challenge_hash: row.challengeHash,
    purpose: row.purpose,
    user_id: row.userId,
    created_at: row.now,
    expires_at: row.expiresAt
  }).execute()
}

export async function deleteDeadWebauthnChallenges (db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('webauthn_challenges').where('expires_at', '<', before).executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function insertPasskey (db: Db, row: PasskeyRow): Promise<void> {
  await db.insertInto('passkeys').values(row).execute()
}

export function listPasskeys (db: Db, userId: string): Promise<PasskeyRow[]> {
  return db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at', 'asc').orderBy('id', 'asc').execute()
}

export function renamePasskey (db: Db, userId: string, id: string, name: string): Promise<PasskeyRow | undefined> {
  return db.updateTable('passkeys').set({ name }).where('id', '=', id).where('user_id', '=', userId).returningAll().executeTakeFirst()
}

export async function deletePasskey (db: Db, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('passkeys').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}
